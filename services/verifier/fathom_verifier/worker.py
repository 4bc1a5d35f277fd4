"""The chain verification process's work (``python -m fathom_verifier``): it runs the verification jobs.

Its own process so a long verification (every event's hash recomputed) never holds a request
worker of the reports service. The reports service notifies ``fathom_verification_requested`` when it
queues a job, and the verifier starts on that trust at once; it also looks at every active trust after
each (re)connect of its listener and every ``sweep_s`` (:mod:`fathom_shared.trust_work`). Run one or
more instances: jobs are claimed with SKIP LOCKED, and a job whose worker died is claimed again once its
claim lapses (:mod:`fathom_reports.audit.verifications`) — found by the next sweep after the lapse, so
such a job resumes at most ``claim_s + sweep_s`` after its worker's last checkpoint.
"""

from __future__ import annotations

import os
import socket
import threading

from fathom_reports.audit.verifications import VerificationRunner
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.notifications import VERIFICATION_REQUESTED, conninfo_for
from fathom_shared.trust_work import FULL_SWEEP_S, NotifiedTrusts, run_trust_work
from fathom_shared.trusts import active_trust_ids


def run(settings: Settings, stop: threading.Event, sweep_s: float = FULL_SWEEP_S) -> None:
    engine = make_engine(settings.app_database_url, pool_size=2)
    runner = VerificationRunner(engine, f"{socket.gethostname()}:{os.getpid()}")

    def work(trust_id: str) -> float | None:
        """Run the trust's next job; if there was one, look again at once (another may be queued)."""
        return 0.0 if runner.work(trust_id) else None

    notified = NotifiedTrusts(conninfo_for(settings.app_database_url), VERIFICATION_REQUESTED)
    try:
        run_trust_work("verifier", work, notified, lambda: active_trust_ids(engine), stop, sweep_s)
    finally:
        engine.dispose()
