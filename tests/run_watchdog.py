"""Nothing a test run or a benchmark started outlives it, however it ends.

The servers and services the tests and benchmarks start (PostgreSQL, the broker, ``fathom up`` and all it
starts) each lead a session of their own, as they do in production, so that a Ctrl-C at the terminal reaches
only what supervises them. A run stopped without its clean-up (SIGTERM, SIGKILL, a job's timeout) would leave
them all running: ports taken, both cores busy, and the next benchmark measuring them beside its own.

So a run marks its environment (:data:`MARK`) and starts this watchdog in a session of its own. Every program
the run starts afterwards inherits the mark, through every generation (a process forked without a new program
keeps the environment it started with, which has none); a test that gives a process an environment of its own
adds the mark with :func:`with_run_mark`. The watchdog waits for the run's process to end, then kills whatever
still carries the mark. After a clean end there is nothing left to find. Not covered: containers, which the
container engine starts, and PostgreSQL's backends, which overwrite their environment with their title and
exit with their postmaster.

    python -m tests.run_watchdog <pid> <its start time> <mark>    (started by :func:`watch_this_run`)
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.process_support import alive, carries, marked, started_at

MARK = "RUN_WATCHDOG_MARK"
"""Not ``FATHOM_…``: tests that start a process without Fathom's settings leave those out, and would this too."""
CHECK_EVERY_S = 0.5
SWEEPS = 5
"""Passes over the processes once the run has ended: one killed mid-start may have started another."""

_watchdogs: list[subprocess.Popen] = []
"""Held so that no watchdog is collected (with a warning) while the run goes on."""


def watch_this_run() -> str:
    """Mark this process's environment and start its watchdog; the mark (a new one for each call: a run that
    starts another, such as a test of this module, gives its own run a watchdog of its own)."""
    mark = uuid.uuid4().hex
    if not Path("/proc/self/stat").exists():  # the watchdog reads Linux's /proc; elsewhere a run is on its own
        return mark
    os.environ[MARK] = mark
    unmarked = {name: value for name, value in os.environ.items() if name != MARK}
    _watchdogs.append(subprocess.Popen(
        [sys.executable, "-m", "tests.run_watchdog", str(os.getpid()), str(started_at(os.getpid())), mark],
        cwd=Path(__file__).resolve().parents[1], env=unmarked, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return mark


def with_run_mark(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this run's mark, if it has one: for a process a test starts with an environment of its own."""
    return {**env, MARK: os.environ[MARK]} if MARK in os.environ else env


def _running(pid: int, started: int) -> bool:
    try:
        return alive(pid) and started_at(pid) == started
    except OSError:
        return False


def main(argv: list[str]) -> None:
    pid, started, mark = int(argv[0]), int(argv[1]), argv[2]
    while _running(pid, started):
        time.sleep(CHECK_EVERY_S)
    for _ in range(SWEEPS):
        left = marked(MARK, mark)
        if not left:
            return
        for leftover in left:
            _kill_if_marked(leftover, mark)
        time.sleep(CHECK_EVERY_S)


def _kill_if_marked(pid: int, mark: str) -> None:
    """SIGKILL through a pidfd, which holds on to one process: the mark is read again once it is open, so a pid
    reused since the scan names another process, unmarked, and that is left alone."""
    try:
        handle = os.pidfd_open(pid)
    except OSError as exc:
        if exc.errno == errno.ENOSYS:  # a kernel before 5.3: the plain signal, and the pid's small risk
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return  # else gone meanwhile
    try:
        if carries(pid, MARK, mark):
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to kill
                signal.pidfd_send_signal(handle, signal.SIGKILL)
    finally:
        os.close(handle)


if __name__ == "__main__":
    main(sys.argv[1:])
