"""What the tests and benchmarks read about a running process from Linux's ``/proc``: its state, its
children and the CPU it has used. The one parser of ``/proc/<pid>/stat`` is
:func:`fathom_infra.local_servers.stat_fields`, which the stack's own shutdown uses too."""

from __future__ import annotations

import os
from pathlib import Path

from fathom_infra.local_servers import stat_fields

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_state(pid: int) -> str:
    """One letter: ``R`` running, ``S`` sleeping, ``T`` stopped (SIGSTOP), ``Z`` exited but not reaped..."""
    return stat_fields(pid)[0]


def alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting for its parent counts as gone)."""
    try:
        return process_state(pid) != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, lowest pid first."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(stat_fields(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # exited while listed
    return sorted(found)


def started_at(pid: int) -> int:
    """When the process started, in clock ticks since boot: with the pid, it names one process (pids are reused)."""
    return int(stat_fields(pid)[19])


def carries(pid: int, variable: str, mark: str) -> bool:
    """Does the process's environment (as it started) hold ``variable=mark``? False once it has gone."""
    try:
        return f"{variable}={mark}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") and alive(pid)
    except OSError:  # gone, or someone else's
        return False


def marked(variable: str, mark: str) -> list[int]:
    """Live processes (this one aside) whose environment holds ``variable=mark``: what a run or a stack started,
    through every generation, since each child inherits its parent's environment. Not PostgreSQL's backends,
    which overwrite theirs with their process title; they exit with their postmaster, which keeps its own."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and int(entry.name) != os.getpid() and carries(int(entry.name), variable, mark)]


def cpu_seconds(pid: int) -> float:
    """Seconds of user and system CPU the process has used so far."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
