"""The supervisor of ``fathom up`` on real child processes: restarts with growing delays, says so, and stops
every process it started, restarted ones and their process groups included.

Small stand-in programs (a shell that sleeps, one that exits at once) are the children: what is tested is
the supervision of real processes and process groups, not the services (``tests/e2e/test_fathom_up.py``).
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fathom_infra.local_servers import group_members, wait_until
from fathom_infra.processes import ServiceProcess, service_env
from fathom_infra.supervisor import Backoff, Supervisor


class Lines(list):
    """What the supervisor said, collected from its thread."""

    def said(self, pattern: str) -> list[re.Match]:
        return [m for line in list(self) if (m := re.search(pattern, line))]


@pytest.fixture
def lines() -> Lines:
    return Lines()


@pytest.fixture
def supervise(lines: Lines) -> Iterator:
    """Runs a supervisor in a thread; stops it and all its children at the end of the test."""
    running: list[tuple[Supervisor, threading.Event, threading.Thread]] = []

    def start(children: list[ServiceProcess], backoff: Backoff, restart: bool = True) -> Supervisor:
        supervisor = Supervisor(backoff, restart=restart, say=lines.append)
        for child in children:
            supervisor.add(child.launch())
        stop = threading.Event()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(supervisor.run(stop, interval_s=0.02)), daemon=True)
        thread.start()
        supervisor.result = result  # type: ignore[attr-defined]
        running.append((supervisor, stop, thread))
        return supervisor

    yield start
    for supervisor, stop, thread in running:
        stop.set()
        thread.join(10)
        supervisor.stop_all()


def shell(name: str, script: str, tmp_path: Path) -> ServiceProcess:
    return ServiceProcess(name, ["/bin/sh", "-c", script], service_env(), tmp_path / f"{name}.log")


def test_a_child_killed_with_sigkill_is_started_again_and_said_so(supervise, lines, tmp_path) -> None:
    sleeper = shell("sleeper", "sleep 600", tmp_path)
    supervise([sleeper], Backoff(first_s=0.1))
    first = sleeper.process.pid

    os.kill(first, signal.SIGKILL)

    wait_until(lambda: lines.said(r"^sleeper restarted \(pid (\d+)\)$"), 10, what="the restart line")
    exited = lines.said(rf"^sleeper \(pid {first}\) exited \(killed by SIGKILL\) after [\d.]+ s; see (\S+); "
                        r"restarting in 0\.1 s \(restart 1 in a row\)$")
    assert len(exited) == 1, lines
    assert exited[0].group(1) == str(tmp_path / "sleeper.log")
    assert int(lines.said(r"restarted \(pid (\d+)\)")[0].group(1)) == sleeper.process.pid != first
    assert sleeper.alive


def test_a_child_that_keeps_exiting_waits_longer_each_time_up_to_the_cap(supervise, lines, tmp_path) -> None:
    supervise([shell("crasher", "exit 3", tmp_path)], Backoff(first_s=0.02, factor=2, cap_s=0.08))

    wait_until(lambda: len(lines.said("exited")) >= 5, 20, what="five exits")
    exits = lines.said(r"^crasher \(pid \d+\) exited \(exit code 3\) .* restarting in ([\d.]+) s "
                       r"\(restart (\d+) in a row\)$")
    assert [(float(m.group(1)), int(m.group(2))) for m in exits[:5]] == [
        (0.02, 1), (0.04, 2), (0.08, 3), (0.08, 4), (0.08, 5)]


def test_stop_all_leaves_no_process_of_any_group_it_started(supervise, lines, tmp_path) -> None:
    # The shell starts a grandchild in its own process group, as gunicorn starts workers.
    family = shell("family", "sleep 600 & sleep 600; wait", tmp_path)
    supervisor = supervise([family], Backoff(first_s=0.05))
    first = family.process.pid
    wait_until(lambda: len(group_members(first)) == 3, 10, what="the shell and both sleeps")

    os.kill(first, signal.SIGKILL)  # its sleeps outlive it: the supervisor must not leave them behind
    wait_until(lambda: lines.said("family restarted"), 10, what="the restart")
    second = family.process.pid
    assert group_members(first) == []
    wait_until(lambda: len(group_members(second)) == 3, 10, what="the restarted family")

    supervisor.stop_all()

    assert not family.alive
    assert group_members(first) == group_members(second) == []


def test_with_restarts_off_an_exit_stops_the_watch(supervise, lines, tmp_path) -> None:
    supervisor = supervise([shell("once", "exit 0", tmp_path), shell("other", "sleep 600", tmp_path)],
                           Backoff(), restart=False)

    wait_until(lambda: supervisor.result, 10, what="the watch to end")
    assert supervisor.result == [1]
    assert lines.said(r"^once \(pid \d+\) exited \(exit code 0\) after [\d.]+ s; see .*once\.log\. "
                      "Restarts are off: stopping everything\\.$"), lines
    assert not lines.said("restarted")
