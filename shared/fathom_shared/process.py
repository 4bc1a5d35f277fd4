"""What every long-running process (relay, projector, delivery, verifier) does at start."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fathom_shared.config import Settings, load_settings
from fathom_shared.logs import configure_logging
from fathom_shared.production_check import exit_if_unsafe


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process's loops finish their step and return, so a stop
    (an orchestrator's, or Ctrl+C) never cuts a transaction or a publish in half."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class Backoff:
    """How long a worker loop waits after a failure (a database or broker outage): doubling from ``first``
    up to ``most``, back to ``first`` after the next success, so an outage is retried often at first and
    then without hammering whatever is down."""

    def __init__(self, first_s: float = 0.5, most_s: float = 5.0) -> None:
        self.first_s, self.most_s = first_s, most_s
        self.next_s = first_s

    def succeeded(self) -> None:
        self.next_s = self.first_s

    def wait(self, stop: threading.Event) -> None:
        """Wait the current delay (a stop ends it early), then double the next one."""
        stop.wait(self.next_s)
        self.next_s = min(self.next_s * 2, self.most_s)


def freeze_loaded_heap() -> None:
    """Keep what loading the process made (modules, schemas, compiled statements, an application and its engines:
    ~130,000 objects in a projector, ~140,000 in a reports worker) out of every later collection.

    Python's oldest-generation collection walks every tracked object, with the GIL held, so the whole process
    waits while it runs: over a freshly loaded reports worker it took 62 ms, and in a process that appended and
    then projected 60,000 judgements (``tests.bench.projector_pairs``) six of them took 47–86 ms each. Those
    objects live as long as the process, so frozen they are never walked again (the same six collections then
    took 3–15 ms); what the process makes afterwards is collected as before."""
    gc.collect()
    gc.freeze()


_PROC_SELF = Path("/proc/self")
GROUP_CHANGE_INTERVAL_S = 0.11
"""Linux takes one session-group priority change per 0.1 s on the whole machine from a process without
``CAP_SYS_ADMIN`` and refuses the others (``EAGAIN``); ``fathom up`` starts four background processes at once."""
GROUP_CHANGE_PATIENCE_S = 5.0

log = logging.getLogger(__name__)


def session_group_nice(pid: int | str = "self") -> int | None:
    """The CPU priority of the session group (Linux autogroup) ``pid`` belongs to; ``/proc/<pid>/autogroup`` reads
    like ``/autogroup-123 nice 0``.

    ``None`` when the process has no session group of its own: the kernel leaves the file empty for the sessions
    of the machine's root group (``init``'s session, and every process a runner starts there without a session of
    its own), whose priority no one can change."""
    text = Path(f"/proc/{pid}/autogroup").read_text()
    return int(text.split("nice")[-1]) if "nice" in text else None


def lower_cpu_priority(nice: int) -> None:
    """Let the processes that answer people (the API, the reports service, PostgreSQL) have the CPU first.

    The relay, projector, delivery process and verifier work through what was saved: elastic work that can
    trail a burst by a moment and catch up after it. On a machine whose cores are all busy, each of them was
    taking CPU from the API's appends and saves as they happened (``docs/benchmark-notes.md`` has the A/B).

    Two knobs, because Linux has two levels. Within a session, ``nice`` is per thread: every thread the process
    has now is set, and threads started later inherit it. Between sessions, with autogroup scheduling
    (``/proc/sys/kernel/sched_autogroup_enabled``), the session's group has a ``nice`` of its own, and only that
    weighs against other sessions: ``fathom up`` starts each process in its own session, where a thread's
    ``nice`` alone changed nothing. The group's is set only when this process leads its session, so one started
    from a terminal never lowers the terminal's. Priority is only ever lowered here (what an operator set higher
    stays; an unprivileged thread cannot raise its own back), and ``nice`` 0 changes nothing. Elsewhere than
    Linux the process's own ``nice`` is set. In containers each service has its own cgroup, whose CPU weight
    decides instead (compose: ``cpu_shares``)."""
    if nice <= 0:
        return
    tasks = _PROC_SELF / "task"
    if not tasks.is_dir():
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
        return
    for task in tasks.iterdir():
        try:
            thread = int(task.name)
            if os.getpriority(os.PRIO_PROCESS, thread) < nice:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:  # a thread that has just exited
            continue
    if os.getsid(0) == os.getpid() and (_PROC_SELF / "autogroup").exists():
        try:
            _lower_session_group(nice)
        except (OSError, ValueError) as exc:  # the threads' own nice still applies
            log.warning("could not lower this session group's CPU priority to %d: %s", nice, exc)


def _lower_session_group(nice: int) -> None:
    """Set the session group's ``nice`` unless it is higher already, waiting out the kernel's rate limit."""
    deadline = time.monotonic() + GROUP_CHANGE_PATIENCE_S
    while (current := session_group_nice()) is not None and current < nice:
        try:
            (_PROC_SELF / "autogroup").write_text(str(nice))
            return
        except BlockingIOError:  # another process's change took this tenth of a second
            if time.monotonic() > deadline:
                raise
            time.sleep(GROUP_CHANGE_INTERVAL_S)


def run_process(service: str, run: Callable[[Settings, threading.Event], None]) -> None:
    """Start a long-running process the way every one starts: structured logs to stderr, stop on
    SIGTERM/SIGINT, refuse unsafe production settings (exit), run behind the services that answer people
    (:func:`lower_cpu_priority`, ``FATHOM_BACKGROUND_NICE``), freeze the loaded heap (:func:`freeze_loaded_heap`),
    then ``run(settings, stop)`` until stopped."""
    configure_logging(service)
    stop = stop_on_signals()
    settings = load_settings()
    exit_if_unsafe(settings, service)
    lower_cpu_priority(settings.background_nice)
    freeze_loaded_heap()
    run(settings, stop)
