"""``python -m fathom_reports.verifier``: the process that runs chain verification jobs.

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
from fathom_shared.config import Settings, load_settings
from fathom_shared.db import make_engine
from fathom_shared.process import stop_on_signals
from fathom_shared.production_check import exit_if_unsafe
from fathom_shared.trusts import active_trust_ids

log = logging.getLogger("fathom.verifier")
MAX_BACKOFF_S = 5.0


def run_once(engine: Engine, runner: VerificationRunner) -> bool:
    """Work one job of each trust that has one; True when any job ran."""
    worked = False
    for trust_id in active_trust_ids(engine):
        worked = runner.work(trust_id) or worked
    return worked


def run(settings: Settings, stop: threading.Event, poll_s: float = 1.0) -> None:
    engine = make_engine(settings.app_database_url, pool_size=2)
    runner = VerificationRunner(engine, f"{socket.gethostname()}:{os.getpid()}")
    backoff = 0.5
    try:
        while not stop.is_set():
            try:
                worked = run_once(engine, runner)
                backoff = 0.5
            except Exception as exc:  # the database is down: back off and carry on
                log.warning("verifier: %s; retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if not worked:
                stop.wait(poll_s)
    finally:
        engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s verifier %(levelname)s %(message)s")
    stop = stop_on_signals()
    settings = load_settings()
    exit_if_unsafe(settings, "verifier")
    run(settings, stop)


if __name__ == "__main__":
    main()
