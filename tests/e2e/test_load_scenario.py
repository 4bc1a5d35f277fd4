"""The load scenario (``make load``), briefly, against every service: it runs clean and does all it claims to.

Two trusts (a class in each of two schools), six simulated people (two integrations and one of each other
kind, all started at once) for twelve seconds with think times shortened (``pace``), through the same
seeding, locust process and summing up as ``python -m tests.load``; the stack is the end-to-end one (the suite's
PostgreSQL and broker). No figure is judged here (speed belongs to the load run and the benchmark): only that
nothing failed — no error answer, every Class Analysis after a save included it, every change notice streamed
was the trust's own and in order, every webhook verified — and that each request type was exercised.
"""

from __future__ import annotations

import uuid

import pytest

from fathom_shared.config import Settings
from tests.e2e.conftest import RunningSystem
from tests.load import names
from tests.load.plan import seed
from tests.load.scenario import run_scenario, wait_projected

pytestmark = pytest.mark.load


def test_the_scenario_runs_without_an_error_and_exercises_every_request_type(
        system: RunningSystem, settings: Settings, tmp_path) -> None:
    plan = seed(settings, system.api, system.reports, system.streams, trusts=2, prefix=f"ld{uuid.uuid4().hex[:6]}",
                integrations=2, classes_per_school=1, say=lambda _: None)
    metrics = system.processes["projector"].ready_url.replace("/healthz", "/metrics")
    wait_projected(plan, metrics)
    groups = {name: process.process.pid for name, process in system.processes.items()}

    outcome = run_scenario(plan, tmp_path / "load", users=6, seconds=12, max_requests=5_000, metrics_url=metrics,
                           groups=groups, command="pytest", pace=0.2, spawn_rate=6,
                           counts={"Teacher": 1, "SchoolLeader": 1, "TrustLeader": 1, "Auditor": 1})

    assert outcome.errors == 0, outcome.failures
    counts = {s.name: s.count for s in outcome.stats}
    assert [name for name in names.EVERY if not counts.get(name)] == []
    assert set(outcome.cpu) >= {"api", "reports", "projector", "locust (the simulated people)"}
