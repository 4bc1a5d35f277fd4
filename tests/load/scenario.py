"""One run of the scenario against a running system: locust headless in its own process, watched, summed up.

Locust runs as a child process (``python -m locust``): it patches the standard library for gevent, which must not
reach the process that started the services. The run is bounded by ``--run-time`` and by a request count
(``FATHOM_LOAD_MAX_REQUESTS``), and the child is stopped by pid if it outlives both (or on Ctrl-C).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from fathom_infra.local_servers import stop_group, wait_until
from fathom_infra.processes import service_env
from tests.load.plan import Plan
from tests.load.results import Outcome, read_failures, read_stats
from tests.load.watch import Watch

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
GRACE_S = 60
"""How long after ``--run-time`` the locust process may take to stop before it is stopped."""


def wait_projected(plan: Plan, metrics_url: str, timeout_s: float = 300) -> None:
    """Until no trust of the plan has an event the read models lack (the seeding's tail), so the run starts level."""

    def level() -> bool:
        watch = Watch(metrics_url, {}, trusts(plan))
        watch.scrape()
        return watch.scrape_failures == 0 and watch.max_lag_events == 0

    wait_until(level, timeout_s, interval=0.5, what="the projector to apply the seeded events")


def run_scenario(plan: Plan, workdir: Path, *, users: int, seconds: float, max_requests: int, metrics_url: str,
                 groups: dict[str, int], command: str, projectors: int = 1, pace: float = 1.0,
                 spawn_rate: float | None = None, counts: dict[str, int] | None = None,
                 projector_metrics: dict[str, str] | None = None) -> Outcome:
    """Run locust against ``plan`` and return what it measured, with the projector's lag and each process's CPU.

    ``counts``: how many of each kind of person (user class name → number) instead of locust sharing ``users``
    out by the classes' weights."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = workdir / "locust"
    env = service_env(FATHOM_LOAD_PLAN=str(plan.save(workdir / "plan.json")),
                      FATHOM_LOAD_MAX_REQUESTS=str(max_requests), FATHOM_LOAD_PACE=str(pace),
                      FATHOM_LOAD_COUNTS=json.dumps(counts or {}),
                      PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", plan.reports,
            "--users", str(users), "--spawn-rate", f"{spawn_rate or max(1.0, users / 10):g}",
            "--run-time", f"{int(seconds)}s", "--csv", str(prefix), "--only-summary",
            "--loglevel", "WARNING", "--logfile", str(workdir / "locust.log")]
    outcome = Outcome(command=command, trusts=len(plan.trusts), users=users, projectors=projectors, seconds=0,
                      stats=[])
    watch = Watch(metrics_url, dict(groups), trusts(plan), projectors=dict(projector_metrics or {})).start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(workdir / "locust.out", "ab") as out:
        locust = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        locust.wait(seconds + GRACE_S)
    except subprocess.TimeoutExpired:
        outcome.exited.append(f"locust (still running {GRACE_S} s after its run time; stopped)")
    finally:
        stop_group(locust)
        outcome.seconds = time.monotonic() - started
        watch.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome.cpu = {**watch.cpu, "locust (the simulated people)":
                   (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / outcome.seconds}
    outcome.waited = watch.waited
    outcome.machine_busy = watch.machine_busy
    outcome.max_lag_s, outcome.max_lag_events = watch.max_lag_s, watch.max_lag_events
    outcome.holdings = watch.holdings
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no statistics; see {workdir / 'locust.out'} and {workdir / 'locust.log'}")
    outcome.stats = read_stats(stats)
    outcome.failures = read_failures(Path(f"{prefix}_failures.csv"))
    outcome.load_after = os.getloadavg()[0]
    return outcome



def trusts(plan: Plan) -> frozenset[str]:
    return frozenset(t.trust_id for t in plan.trusts)
