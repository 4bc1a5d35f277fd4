"""The freshness contract: ``consistency=at_least:N`` waits until the read model has applied N.

The projector runs ``pg_notify('fathom_projected', '<trust_id>:<last_applied>')`` after each
commit. One daemon thread per process and database (:class:`ProjectionListener`, a
:class:`fathom_shared.notifications.ChannelListener`) LISTENs on that channel over a dedicated
connection and wakes waiting requests through a :class:`threading.Condition`. A notification
is only a hint: a waiter always re-reads ``rm_positions`` in the database before answering,
and re-reads it every ``poll_interval`` anyway, so a missed notification (listener
reconnecting, not yet started) costs latency, never correctness, and a forged one costs a
few queries.

With a read replica (``REPORTS_DATABASE_URL``) the position is read on the replica, where the read will be
served, and the listener still LISTENs on the primary: a hot standby cannot LISTEN (``NOTIFY`` is not carried
by WAL). A notification then says the *primary* has applied N; the replica applies the same commit a moment
later, and nothing tells us when. So once the primary has been notified of N the waiter re-reads the replica's
``rm_positions`` with a brief backoff (:data:`REPLICA_FIRST_BACKOFF_S`, doubling up to ``poll_interval``): the
replica's position is the very fact the contract promises, read the way it always was. (The position and the
rows it describes are written in one commit, and a standby replays commits in order: a snapshot taken after it
shows N shows every row of N.)

Why this and not the alternatives. Comparing ``pg_last_wal_replay_lsn()`` on the replica with the primary's
LSN costs a round trip to the primary on every wait, and the primary's current LSN overshoots (it includes
every other trust's writes since), so a reader would wait for writes it never asked about; it would still poll
the replica. ``synchronous_commit = remote_apply`` on the projector (a synchronous standby) would make the
notification arrive only after the standby applied the commit, but it couples projection to the replica's
health: a stopped or slow standby would stall every projector commit, and so every trust's freshness, where
this costs only the reports' reads (503 while the replica is away) and leaves writes and projection alone.

No lost wakeups: ``seen`` is taken before each read, so a notification after the read always wakes the wait;
every answer is a fresh read. No busy spin: the backoff starts at a few milliseconds and doubles to the poll
interval. Bounded: at the deadline :class:`ReadModelBehind` (the request's 503 with ``Retry-After``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fathom_shared import stage_trace
from fathom_shared.notifications import PROJECTED, ChannelListener, conninfo_for, parse_notification


class SequenceNotWritten(Exception):
    """The requested sequence is beyond the trust's head in the event store: no wait can reach it."""

    def __init__(self, head: int, requested: int) -> None:
        super().__init__(f"the trust's last event is sequence {head}, {requested} requested")
        self.head, self.requested = head, requested


class ReadModelBehind(Exception):
    """The read model did not reach the requested sequence in time."""

    def __init__(self, current: int, requested: int) -> None:
        super().__init__(f"read model at {current}, {requested} requested")
        self.current, self.requested = current, requested


@dataclass(frozen=True)
class Reading:
    """A position read, and the highest notification seen just before it: a wait can start from it without reading
    the position again, as a notification sent after the read is newer than ``seen`` and still wakes it."""

    seen: int
    position: int


class ProjectionListener(ChannelListener):
    """Remembers the highest position notified per trust and wakes whoever waits for it."""

    def __init__(self, conninfo: str, reconnect_delay_s: float = 0.5) -> None:
        super().__init__(conninfo, PROJECTED, reconnect_delay_s)
        self._notified: dict[str, int] = {}

    def notified(self, trust_id: str) -> int:
        """The highest position notified for ``trust_id`` so far (0 before any)."""
        with self._condition:
            return self._notified.get(trust_id, 0)

    def wait(self, trust_id: str, at_least: int, seen: int, timeout: float) -> bool:
        """Block until a notification newer than ``seen`` says ``trust_id`` reached ``at_least``.

        Requiring a *newer* notification keeps a waiter from spinning when a notification
        claims more than the database shows (e.g. one sent by hand): it falls back to polling.
        """

        def reached() -> bool:
            notified = self._notified.get(trust_id, 0)
            return notified > seen and notified >= at_least

        with self._condition:
            return self._condition.wait_for(reached, timeout)

    def received(self, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is None:
            return
        trust_id, sequence = parsed
        stage_trace.mark("reports_notified", trust_id, sequence)
        with self._condition:
            if sequence > self._notified.get(trust_id, 0):
                self._notified[trust_id] = sequence
                self._condition.notify_all()


_listeners: dict[str, ProjectionListener] = {}
"""By the database URL as the caller holds it: every read with ``consistency=`` asks, and turning the URL into a
connection string each time cost more than the rest of the lookup (about 9 µs)."""
_listeners_lock = threading.Lock()


def listener_for(database_url: str) -> ProjectionListener:
    """The process's one listener for this database, started if it is not running."""
    with _listeners_lock:
        listener = _listeners.get(database_url)
        if listener is None:
            listener = _listeners[database_url] = ProjectionListener(conninfo_for(database_url))
    listener.ensure_running()
    return listener


REPLICA_FIRST_BACKOFF_S = 0.002
"""First pause before re-reading a replica that has not yet applied what the primary has: loopback replay takes
about a millisecond; each further pause doubles, up to the poll interval."""


ASK_PROJECTOR_AFTER_S = 0.1
"""How long a read waits on the broker path before asking the projector for the trust (``fathom_read_waiting``):
longer than the whole path takes on a machine with CPU to spare (write-to-visible p99 about 100 ms in the
benchmark, the read's rendering included), so only a read behind a backlog asks."""


def wait_for_position(read_position: Callable[[], int], listener: ProjectionListener, trust_id: str,
                      at_least: int, timeout_s: float, poll_interval_s: float = 0.15,
                      ask_projector: Callable[[], None] | None = None,
                      ask_after_s: float = ASK_PROJECTOR_AFTER_S, first: Reading | None = None) -> int:
    """Return the trust's position once it is ``>= at_least``; raise :class:`ReadModelBehind` at the deadline.

    ``read_position`` asks the database the reads come from (the primary, or the replica); the listener only
    shortens the sleep between asks. Once the primary has been notified of ``at_least`` no newer notification
    need come, so the pause is a backoff from :data:`REPLICA_FIRST_BACKOFF_S` instead (see the module's text).

    If the primary has not applied ``at_least`` after ``ask_after_s``, ``ask_projector()`` is called once: the
    projector then applies the trust from the event store rather than after whatever the broker holds before
    its messages (another trust's import, say), so one trust's backlog does not hold every other trust's reads.

    ``first``: the caller's own reading, taken the same way (the notification before the read), which found the
    position short of ``at_least``; the wait starts from it instead of reading again at once.
    """
    started = time.monotonic()
    deadline, ask_at = started + timeout_s, started + ask_after_s
    backoff = REPLICA_FIRST_BACKOFF_S
    while True:
        if first is not None:
            seen, current, first = first.seen, first.position, None
        else:  # `seen` taken before the read, so a notification sent after it always wakes the wait below
            seen = listener.notified(trust_id)
            current = read_position()
        if current >= at_least:
            return current
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            raise ReadModelBehind(current, at_least)
        pause = poll_interval_s
        if seen >= at_least:  # applied on the primary, not yet where the reads come from: replay is under way
            pause, backoff = min(backoff, poll_interval_s), backoff * 2
        elif ask_projector is not None:
            if now >= ask_at:
                ask_projector()
                ask_projector = None
            else:
                pause = min(pause, ask_at - now)
        listener.wait(trust_id, at_least, seen, min(remaining, pause))
