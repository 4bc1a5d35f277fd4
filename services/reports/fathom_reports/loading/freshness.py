"""The freshness contract: ``consistency=at_least:N`` waits until the read model has applied N.

The projector runs ``pg_notify('fathom_projected', '<trust_id>:<last_applied>')`` after each
commit. One daemon thread per process and database (:class:`ProjectionListener`) LISTENs on
that channel over a dedicated connection and wakes waiting requests through a
:class:`threading.Condition`. A notification is only a hint: a waiter always re-reads
``rm_positions`` in the database before answering, and re-reads it every ``poll_interval``
anyway, so a missed notification (listener reconnecting, not yet started) costs latency,
never correctness, and a forged one costs one query.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

CHANNEL = "fathom_projected"
log = logging.getLogger(__name__)


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


class ProjectionListener:
    """Remembers the highest position notified per trust and wakes whoever waits for it."""

    MAX_RECONNECT_DELAY_S = 30.0

    def __init__(self, conninfo: str, reconnect_delay_s: float = 0.5) -> None:
        self._conninfo = conninfo
        self._reconnect_delay_s = reconnect_delay_s
        self._condition = threading.Condition()
        self._notified: dict[str, int] = {}
        self._sessions = 0
        self._listening = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def ensure_running(self) -> None:
        """Start the thread on first use, and again in a forked worker (threads do not survive fork)."""
        with self._condition:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="fathom-projection-listener", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def sessions(self) -> int:
        """How many LISTEN connections have been opened (more than one means it reconnected)."""
        with self._condition:
            return self._sessions

    def wait_listening(self, timeout: float, after_sessions: int = 0) -> bool:
        """Block until a LISTEN connection later than ``after_sessions`` is up.

        Notifications sent while no connection is up are lost; waiters then rely on polling.
        """
        with self._condition:
            return self._condition.wait_for(lambda: self._listening and self._sessions > after_sessions, timeout)

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

    def _record(self, trust_id: str, sequence: int) -> None:
        with self._condition:
            if sequence > self._notified.get(trust_id, 0):
                self._notified[trust_id] = sequence
                self._condition.notify_all()

    def _run(self) -> None:
        delay = self._reconnect_delay_s
        while not self._stopping.is_set():
            sessions_before = self.sessions
            try:
                self._listen()
            except psycopg.Error as exc:
                # Reconnect at once after a working session dropped; back off while the server is down.
                delay = self._reconnect_delay_s if self.sessions > sessions_before else min(
                    delay * 2, self.MAX_RECONNECT_DELAY_S)
                log.warning("projection listener has no connection (%s); retrying in %.1f s", exc, delay)
                self._stopping.wait(delay)
            finally:
                with self._condition:
                    self._listening = False

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            with self._condition:
                self._sessions += 1
                self._listening = True
                self._condition.notify_all()
            log.info("listening on %s", CHANNEL)
            while not self._stopping.is_set():
                # The timeout only bounds how long stop() waits for this thread.
                for notification in connection.notifies(timeout=1.0):
                    parsed = parse_notification(notification.payload)
                    if parsed is not None:
                        self._record(*parsed)


_listeners: dict[str, ProjectionListener] = {}
_listeners_lock = threading.Lock()


def listener_for(database_url: str) -> ProjectionListener:
    """The process's one listener for this database, started if it is not running."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
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
