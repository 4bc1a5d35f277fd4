"""The benchmark's CPU census puts each part's CPU under its own name: a busy part shows as busy, a child in a
session of its own (as each PostgreSQL backend is) counts for the part that started it, and the CPU of a process
that ended within the measure still counts for its part."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fathom_infra.local_servers import stat_fields, wait_until
from tests.bench.census import Census, MachineCpu, Settling, census, settle
from tests.process_support import CLOCK_TICKS, cpu_seconds

SPIN = "x = 0\nfor i in range(10**9): x += i"
REAPED = ("import subprocess, sys, time\n"
          "sys.stdin.readline()\n"
          "subprocess.run([sys.executable, '-c', 'x = 0\\nwhile x < 30_000_000: x += 1'])\n"
          "time.sleep(60)")
"""A leader that, when told, runs a busy child to its end (and so reaps it), then idles."""
DETACHED = ("import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', {SPIN!r}], start_new_session=True)\n"
            "time.sleep(60)")
"""A leader whose busy child leads a session (and process group) of its own, as ``setsid()`` in a backend does."""


def _group(code: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True, **options)


def _reaped_cpu(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def test_a_busy_group_is_counted_and_an_idle_one_is_not() -> None:
    busy, idle = _group(SPIN), _group("import time; time.sleep(60)")
    try:
        with census({"busy": busy.pid, "idle": idle.pid}) as used:
            start = cpu_seconds(busy.pid)
            wait_until(lambda: cpu_seconds(busy.pid) - start >= 0.5, 30, what="the busy process's CPU")
        assert used.seconds["busy"] >= 0.4
        assert used.seconds["idle"] < 0.1
        assert used.wall >= 0.4
        assert "benchmark clients" in used.seconds
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()


def test_a_child_in_a_session_of_its_own_counts_for_the_part_that_started_it() -> None:
    leader = _group(DETACHED)
    try:
        wait_until(lambda: bool(_children(leader.pid)), 30, what="the detached child")
        (child,) = _children(leader.pid)
        # Listed from the fork on; it leaves the leader's process group at its setsid(), just before exec.
        wait_until(lambda: int(stat_fields(child)[2]) != leader.pid, 30, what="the child's session of its own")
        assert int(stat_fields(child)[2]) != leader.pid  # not in the leader's process group
        with census({"leader": leader.pid}) as used:
            start = cpu_seconds(child)
            wait_until(lambda: cpu_seconds(child) - start >= 0.5, 30, what="the child's CPU")
        assert used.seconds["leader"] >= 0.4
    finally:
        for pid in _children(leader.pid):
            os.kill(pid, signal.SIGKILL)
        leader.kill()
        leader.wait()


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_child_that_ended_within_the_measure_counts_for_its_group() -> None:
    leader = _group(REAPED, stdin=subprocess.PIPE, text=True)
    try:
        with census({"leader": leader.pid}) as used:
            leader.stdin.write("go\n")
            leader.stdin.flush()
            wait_until(lambda: _reaped_cpu(leader.pid) > 0, 60, what="the child to end and be reaped")
        assert used.seconds["leader"] >= _reaped_cpu(leader.pid) * 0.9 > 0
    finally:
        leader.kill()
        leader.wait()


def test_a_command_run_to_its_end_within_the_measure_is_counted_under_its_name_first() -> None:
    busy_child = [sys.executable, "-c", "x = 0\nwhile x < 20_000_000: x += 1"]
    subprocess.run(busy_child, check=True)  # reaped before the measure: not the command's
    with census({}, commands="the command") as used:
        subprocess.run(busy_child, check=True)
    assert list(used.seconds) == ["the command", "benchmark clients"]
    # The command's CPU is the kernel's account of the reaped child, given in microseconds; the machine's is summed
    # from clock ticks per core (10 ms each here), so it can fall short of the command's by a tick or two.
    assert 0.2 <= used.seconds["the command"] <= used.machine.processes + 3 / CLOCK_TICKS
    assert used.other_processes < used.seconds["the command"]


def test_the_line_names_each_part_in_order_then_the_rest_of_the_machine() -> None:
    used = Census(seconds={"reports": 3.14, "PostgreSQL": 1.2, "benchmark clients": 0.5},
                  machine=MachineCpu(processes=5.0, interrupts=0.8, idle=0.42, stolen=0.06))
    assert used.line() == ("reports 3.1 s, PostgreSQL 1.2 s, benchmark clients 0.5 s; other processes 0.2 s, "
                           "interrupts 0.8 s, idle 0.4 s, stolen by the host 0.1 s")


def test_the_machines_time_is_read_from_proc_stat() -> None:
    stat = ("cpu  2916535 29003 544986 3738062 34405 0 77552 30697 0 0\n"
            "cpu0 1430413 14612 260859 1917575 10740 0 36039 15360 0 0\n")
    machine = MachineCpu.parse(stat)
    assert machine.processes == pytest.approx((2916535 + 29003 + 544986) / CLOCK_TICKS)
    assert machine.interrupts == pytest.approx(77552 / CLOCK_TICKS)
    assert machine.idle == pytest.approx((3738062 + 34405) / CLOCK_TICKS)
    assert machine.stolen == pytest.approx(30697 / CLOCK_TICKS)


def test_a_census_accounts_for_a_busy_process_outside_the_stack_and_for_idle_time() -> None:
    outside = _group(SPIN)
    try:
        with census({}) as used:
            start = cpu_seconds(outside.pid)
            wait_until(lambda: cpu_seconds(outside.pid) - start >= 0.5, 30, what="the outside process's CPU")
        assert used.other_processes >= 0.4
        assert used.machine.idle >= 0
        assert used.machine.stolen >= 0
    finally:
        outside.kill()
        outside.wait()


def test_a_stack_whose_parts_are_idle_settles_in_one_window() -> None:
    idle = _group("import time; time.sleep(60)")
    try:
        settling = settle({"idle": idle.pid}, timeout_s=30, window_s=0.2)
        assert settling.settled
        assert settling.seconds < 1
    finally:
        idle.kill()
        idle.wait()


def test_a_busy_part_keeps_the_stack_from_settling_and_is_named() -> None:
    busy = _group(SPIN)
    try:
        settling = settle({"busy": busy.pid}, timeout_s=0.6, window_s=0.2)
        assert not settling.settled
        assert settling.used["busy"] > 0.2
        assert settling.line().startswith("the stack had not settled after 1 s (CPU meanwhile: busy 0.")
    finally:
        busy.kill()
        busy.wait()


def test_the_settling_line_names_the_busy_parts_busiest_first() -> None:
    line = Settling(3.24, {"broker": 1.93, "PostgreSQL": 0.31, "API": 0.01}, settled=True).line()
    assert line == "the stack settled in 3.2 s (CPU meanwhile: broker 1.9 s, PostgreSQL 0.3 s)"
