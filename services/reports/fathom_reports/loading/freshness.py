"""The freshness contract: ``consistency=at_least:N`` waits until the read model has applied N.

The projector runs ``pg_notify('fathom_projected', '<trust_id>:<last_applied>')`` after each
commit. One daemon thread per process and database (:class:`ProjectionListener`, a
:class:`fathom_shared.notifications.ChannelListener`) LISTENs on that channel over a dedicated
connection and wakes waiting requests through a :class:`threading.Condition`. A notification
is only a hint: a waiter always re-reads ``rm_positions`` in the database before answering,
and re-reads it every ``poll_interval`` anyway, so a missed notification (listener
reconnecting, not yet started) costs latency, never correctness, and a forged one costs one
query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fathom_shared import stage_trace
from fathom_shared.notifications import PROJECTED, ChannelListener, conninfo_for


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


def parse_notification(payload: str) -> tuple[str, int] | None:
    """``'trust-a:42'`` → ``('trust-a', 42)``; None for anything malformed."""
    trust_id, separator, sequence = payload.rpartition(":")
    if not separator or not trust_id or not sequence.isdigit():
        return None
    return trust_id, int(sequence)


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
_listeners_lock = threading.Lock()


def listener_for(database_url: str) -> ProjectionListener:
    """The process's one listener for this database, started if it is not running."""
    conninfo = conninfo_for(database_url)
    with _listeners_lock:
        listener = _listeners.get(conninfo)
        if listener is None:
            listener = _listeners[conninfo] = ProjectionListener(conninfo)
    listener.ensure_running()
    return listener


def wait_for_position(read_position: Callable[[], int], listener: ProjectionListener, trust_id: str,
                      at_least: int, timeout_s: float, poll_interval_s: float = 0.15) -> int:
    """Return the trust's position once it is ``>= at_least``; raise :class:`ReadModelBehind` at the deadline.

    ``read_position`` asks the database; the listener only shortens the sleep between asks.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        # Taken before the read, so a notification sent after it always wakes the wait below.
        seen = listener.notified(trust_id)
        current = read_position()
        if current >= at_least:
            return current
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReadModelBehind(current, at_least)
        listener.wait(trust_id, at_least, seen, min(remaining, poll_interval_s))
