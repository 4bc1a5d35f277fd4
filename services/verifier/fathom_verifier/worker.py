"""The chain verification process's work (``python -m fathom_verifier``): it runs the verification jobs.

Its own process so a long verification (every event's hash recomputed) never holds a request
worker of the reports service. It looks for work in every active trust each ``poll_s``; run one or
more instances: jobs are claimed with SKIP LOCKED, and a job whose worker died is claimed again
once its claim lapses (:mod:`fathom_reports.audit.verifications`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from sqlalchemy import Engine

from fathom_reports.audit.verifications import VerificationRunner
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.process import Backoff
from fathom_shared.trusts import active_trust_ids

log = logging.getLogger("fathom.verifier")


def run_once(engine: Engine, runner: VerificationRunner) -> bool:
    """Work one job of each trust that has one; True when any job ran."""
    worked = False
    for trust_id in active_trust_ids(engine):
        worked = runner.work(trust_id) or worked
    return worked


def run(settings: Settings, stop: threading.Event, poll_s: float = 1.0) -> None:
    engine = make_engine(settings.app_database_url, pool_size=2)
    runner = VerificationRunner(engine, f"{socket.gethostname()}:{os.getpid()}")
    backoff = Backoff()
    try:
        while not stop.is_set():
            try:
                worked = run_once(engine, runner)
                backoff.succeeded()
            except Exception as exc:  # the database is down: back off and carry on
                log.warning("verifier: %s; retrying in %.1fs", exc, backoff.next_s)
                backoff.wait(stop)
                continue
            if not worked:
                stop.wait(poll_s)
    finally:
        engine.dispose()
