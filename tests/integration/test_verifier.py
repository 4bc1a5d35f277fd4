"""The verifier process's loop: a requested verification starts when the reports service notifies, not at a sweep.

The full sweep over every trust is rare (it costs a tenant transaction per trust), so the loop here has it
an hour away. The first job may be found by the sweep that follows the listener's connection; the second is
requested after the first is done, so only the ``fathom_verification_requested`` notification can bring it.
"""

from __future__ import annotations

import threading

from fathom_infra.local_servers import wait_until
from fathom_reports.audit.verifications import load_verification, request_verification
from fathom_verifier.worker import run
from tests.change_feed_support import append_history


def _done(app_engine, trust: str, job_id: str) -> bool:
    job = load_verification(app_engine, trust, job_id)
    return job is not None and job.status == "done"


def test_a_requested_verification_is_run_at_once_with_the_sweep_an_hour_away(settings, app_engine, make_trust):
    first, second = make_trust("a"), make_trust("b")
    append_history(app_engine, first)
    append_history(app_engine, second)
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(settings, stop, 3600.0), daemon=True)
    worker.start()
    try:
        job, created = request_verification(app_engine, first, "auditor")
        assert created
        wait_until(lambda: _done(app_engine, first, job.job_id), 60, what="the first verification done")

        job, created = request_verification(app_engine, second, "auditor")
        assert created
        wait_until(lambda: _done(app_engine, second, job.job_id), 60, what="the second verification done")
        result = load_verification(app_engine, second, job.job_id).result
        assert result["ok"] is True and result["trust_id"] == second
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
