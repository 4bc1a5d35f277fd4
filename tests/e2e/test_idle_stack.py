"""An idle stack is idle: with no traffic, no Fathom process uses more than 5 % of a core.

A loop that polls something answering at once (a consumer fetching from a broker that does not hold an
empty fetch) burns a core while nothing happens, and takes it from everything else on the machine. The
CPU each process used is read from ``/proc/<pid>/stat`` (user + system time) before and after 20 s without
a request; every process of the stack is counted, gunicorn masters and each of their workers included. Two
hundred more trusts exist meanwhile, so a background loop that visits every trust every second fails too.
Then a write after the idle spell has to become visible: the projector, which stops fetching while the
topic is drained, is woken by it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests
from sqlalchemy import Engine, text

from fathom_api.validation import school_today
from fathom_infra.local_servers import wait_until
from fathom_shared.db import set_trust
from fathom_shared.trusts import active_trust_ids
from tests.e2e.conftest import RunningSystem
from tests.process_support import children, cpu_seconds
from tests.support import SmallTrust, token_for

IDLE_S = 20.0
MORE_TRUSTS = 200
"""Trusts created before the idle spell: a loop that visits every trust on a short interval costs CPU in
proportion to their number, and a platform serves many trusts."""
MOST_CORE_SHARE = 0.05


def fathom_processes(system: RunningSystem) -> dict[str, int]:
    """Every process of the stack by a readable name: each service, and each gunicorn worker under its master."""
    found = {}
    for name, service in system.processes.items():
        pid = service.process.pid
        workers = children(pid)
        found[f"{name} (master)" if workers else name] = pid
        found.update({f"{name} worker {worker}": worker for worker in workers})
    return found


def _expected_workers(argv: list[str]) -> int:
    return int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 0


def _past_imports(pid: int) -> bool:
    """The process has loaded the database driver: past its imports (the costly part of a start), in its loop."""
    try:
        return "psycopg" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def settled(system: RunningSystem) -> bool:
    """Every service answers its health check, every gunicorn master has all its workers, each past its imports."""
    for service in system.processes.values():
        assert service.alive, f"{service.name} exited; see {service.log_path}"
        if service.ready_url and requests.get(service.ready_url, timeout=5).status_code != 200:
            return False
        if len(children(service.process.pid)) != _expected_workers(service.argv):
            return False
    return all(_past_imports(pid) for name, pid in fathom_processes(system).items() if "master" not in name)


def projector_metric(system: RunningSystem, name: str) -> float:
    """The sum of a projector metric's samples (all labels)."""
    text = requests.get(system.processes["projector"].ready_url.replace("/healthz", "/metrics"), timeout=5).text
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def _trust_with_data(system: RunningSystem, trust: str) -> tuple[str, SmallTrust]:
    """A leader token and a small trust, written through the API and projected."""
    leader = token_for(system.settings, trust, ["trust_leader"], sub="head")

    small = SmallTrust().create(system.poster(leader))
    visible = system.get(leader, "/v1/classes/4A/analysis", consistency=f"at_least:{small.last_sequence}")
    assert visible.status_code == 200, visible.text
    return leader, small


def change_topics_caught_up(engine: Engine) -> bool:
    """The delivery process has published every active trust's change notices to its topic. Notices that other
    tests of the session left in the database (a projector test leaves tens of thousands) are real work for a
    new stack's publisher, not idleness: run after them, this test used to measure that work."""
    with engine.connect() as connection, connection.begin():
        for trust_id in active_trust_ids(engine):
            set_trust(connection, trust_id)
            if connection.execute(text(
                    "SELECT coalesce((SELECT last_notice FROM change_heads WHERE trust_id = :t), 0) > "
                    "coalesce((SELECT published_notice FROM change_publish_positions WHERE trust_id = :t), 0)"),
                    {"t": trust_id}).scalar():
                return False
    return True


def test_no_process_of_an_idle_stack_uses_more_than_five_percent_of_a_core(system, trust, make_trust, app_engine):
    _trust_with_data(system, trust)
    for _ in range(MORE_TRUSTS):
        make_trust("idle")
    wait_until(lambda: settled(system), 120, interval=0.2, what="every process of the stack started")
    wait_until(lambda: change_topics_caught_up(app_engine), 600, interval=0.5,
               what="the change-topic publisher through the notices earlier tests left")
    processes = fathom_processes(system)
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}

    time.sleep(IDLE_S)  # the measurement itself: nothing is sent to the stack meanwhile

    assert fathom_processes(system) == processes, "a process of the stack exited or was replaced while idle"
    used = {name: cpu_seconds(pid) - before[name] for name, pid in processes.items()}
    limit = IDLE_S * MOST_CORE_SHARE
    busy = {name: seconds for name, seconds in used.items() if seconds > limit}
    table = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sorted(used.items()))
    print(f"CPU used in {IDLE_S:.0f} s idle: {table}")
    assert not busy, (f"idle for {IDLE_S:.0f} s, these used more than {limit:.1f} s of CPU (5 % of a core): "
                      + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in busy.items())
                      + f"; every process: {table}")


def test_a_write_after_an_idle_spell_becomes_visible(system, trust):
    leader, small = _trust_with_data(system, trust)
    wait_until(lambda: projector_metric(system, "fathom_projector_paused") == 1, 60,
               what="the projector to stop fetching from the drained topic")
    wakeups = projector_metric(system, "fathom_projector_idle_wakeups_total")

    written = system.post(leader, "/v1/judgements", {"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 3, "assessed_on": school_today().isoformat()}]})
    assert written.status_code == 201, written.text
    last = written.json()["last_sequence"]
    read = system.get(leader, "/v1/classes/4A/analysis", consistency=f"at_least:{last}")

    assert read.status_code == 200, read.text
    assert read.json()["sequence"] >= last > small.last_sequence
    # The read can be served before the projector wakes: a read that waits is applied from the event store by
    # the projector's sweep (``fathom_read_waiting``), which may be sooner than the relay publishes the write.
    # The wake comes when the relay has published, so it is waited for, not expected by the time of the read.
    wait_until(lambda: projector_metric(system, "fathom_projector_idle_wakeups_total") > wakeups, 30, interval=0.2,
               what="the paused projector to wake for the published write")
