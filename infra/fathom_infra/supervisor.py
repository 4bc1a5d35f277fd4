"""Supervision for ``fathom up``: a process that exits is started again after a backoff, and says so.

One service that crashes (a bug, the out-of-memory killer, an operator's ``kill -9``) should cost its own
restart, not the whole stack. Each exit is one line naming the service, its pid, how it ended (exit code or
signal), how long it had run, the delay before the restart and its log; each restart is one line with the
new pid. The delay doubles with each restart in a row (1 s, 2 s, 4 s … at most 30 s), so a service that
cannot start (a port taken, a database refusing) does not spin; a service that stayed up a minute starts
its next series from 1 s again.

The real servers ``fathom up`` started itself (PostgreSQL, the broker) are supervised the same way: the
services already ride out their outages (a 503 while the database is away, the producer and consumers
reconnecting to the broker), so restarting the server on its own data directory and port is all recovery
needs; PostgreSQL replays its WAL on the way up. Servers given by ``DATABASE_URL`` /
``KAFKA_BOOTSTRAP_SERVERS`` are someone else's to supervise.

Every child has its own process group; before a restart whatever is left of the old group is killed, and
:meth:`Supervisor.stop_all` stops every child in the reverse order of starting, restarted ones included.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fathom_infra.local_servers import kill_group


class Supervised(Protocol):
    """A child process ``fathom up`` keeps running: a service, PostgreSQL or the broker."""

    name: str
    process: subprocess.Popen | None

    @property
    def log_path(self) -> Path: ...

    def launch(self) -> object:
        """Start the process and return without waiting for it to be ready."""

    def stop(self) -> None:
        """Stop the process and everything left in its process group."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a child that exited."""

    first_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 30.0
    stable_after_s: float = 60.0
    """A child that ran this long before it exited is restarted after ``first_s`` again."""

    def delay(self, restarts_in_a_row: int) -> float:
        """The delay before restart number ``restarts_in_a_row + 1`` of a series."""
        return min(self.cap_s, self.first_s * self.factor ** restarts_in_a_row)

    def in_a_row_after(self, in_a_row: int, uptime_s: float) -> int:
        """Restarts in the current series once a child that ran ``uptime_s`` exits: a long run ends a series."""
        return 0 if uptime_s >= self.stable_after_s else in_a_row


def describe_exit(returncode: int) -> str:
    """``exit code 1`` or ``killed by SIGKILL``, as ``Popen.returncode`` reports it."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def announce(line: str) -> None:
    """A supervision line on ``fathom up``'s own output, with the time of day."""
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


@dataclass
class _Watch:
    child: Supervised
    started_at: float
    in_a_row: int = 0
    restart_at: float | None = None
    """When the child is to be started again; None while it runs."""


class Supervisor:
    """Keeps its children running until :meth:`run` is told to stop; :meth:`stop_all` stops them."""

    def __init__(self, backoff: Backoff | None = None, restart: bool = True,
                 say: Callable[[str], None] = announce, clock: Callable[[], float] = time.monotonic) -> None:
        self.backoff = backoff or Backoff()
        self.restart = restart
        self.say = say
        self.clock = clock
        self._watches: list[_Watch] = []

    def add(self, child: Supervised) -> None:
        """Watch a child that has just been started."""
        self._watches.append(_Watch(child, self.clock()))

    def run(self, stop: threading.Event, interval_s: float = 0.2) -> int:
        """Watch until ``stop`` is set: 0; or, with restarts off, until a child exits: 1."""
        while not stop.wait(interval_s):
            if not self.check():
                return 1
        return 0

    def check(self) -> bool:
        """One look at every child: note exits, start those whose delay is over. False: stop everything."""
        for watch in self._watches:
            process = watch.child.process
            if watch.restart_at is None:
                if process is not None and process.poll() is not None and not self._exited(watch, process):
                    return False
            elif self.clock() >= watch.restart_at:
                self._start_again(watch)
        return True

    def _exited(self, watch: _Watch, process: subprocess.Popen) -> bool:
        kill_group(process.pid)  # e.g. workers or backends that outlived their leader
        now = self.clock()
        uptime = now - watch.started_at
        ended = (f"{watch.child.name} (pid {process.pid}) exited ({describe_exit(process.returncode)}) "
                 f"after {uptime:.1f} s")
        if not self.restart:
            self.say(f"{ended}; see {watch.child.log_path}. Restarts are off: stopping everything.")
            return False
        watch.in_a_row = self.backoff.in_a_row_after(watch.in_a_row, uptime)
        self._schedule(watch, now, f"{ended}; see {watch.child.log_path}")
        return True

    def _schedule(self, watch: _Watch, now: float, what: str) -> None:
        delay = self.backoff.delay(watch.in_a_row)
        watch.in_a_row += 1
        watch.restart_at = now + delay
        self.say(f"{what}; restarting in {delay:g} s (restart {watch.in_a_row} in a row)")

    def _start_again(self, watch: _Watch) -> None:
        watch.restart_at = None
        watch.started_at = self.clock()
        try:
            watch.child.launch()
        except Exception as exc:  # e.g. a missing binary: say so and try again later
            self._schedule(watch, self.clock(), f"{watch.child.name} could not be started ({exc})")
            return
        self.say(f"{watch.child.name} restarted (pid {watch.child.process.pid})")

    def stop_all(self) -> None:
        """Stop every child, the last started first; one that fails to stop does not keep the rest running."""
        for watch in reversed(self._watches):
            try:
                watch.child.stop()
            except Exception as exc:  # stop the others whatever happened to this one
                self.say(f"{watch.child.name} did not stop cleanly: {exc}")
