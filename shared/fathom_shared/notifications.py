"""PostgreSQL LISTEN on a daemon thread: how one process hears another's ``pg_notify`` without polling for it.

A notification is only ever a hint that something may have changed: every receiver re-reads the
truth (the database, the broker) before acting on it, and looks again on a bounded interval, so a
notification lost while the connection is down costs latency, never correctness.

Channels: ``fathom_events`` (the event store, at each append's commit; read by the relay),
``fathom_published`` (the relay, once the broker acknowledged a trust's events; read by the
projector), ``fathom_projected`` (the projector, after each commit; read by the reports service
and the change-feed delivery), ``fathom_webhook_replayed`` (the reports service, when a subscription is
set back to deliver again; read by the change-feed delivery), ``fathom_verification_requested`` (the
reports service, when it queues a chain verification; read by the verifier) and ``fathom_read_waiting`` (the
reports service, when a read has waited for the read models to reach a sequence; read by the projector).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

EVENTS_APPENDED = "fathom_events"
"""Payload: the trust id that has just appended events (sent by the event store at commit)."""
PROJECTED = "fathom_projected"
"""Payload: ``<trust_id>:<last_applied>``, sent by the projector after each commit."""
EVENTS_PUBLISHED = "fathom_published"
"""Payload: the trust id whose events the relay has just published."""
WEBHOOK_REPLAYED = "fathom_webhook_replayed"
"""Payload: the trust id one of whose webhook subscriptions has just been set back to an earlier notice."""
VERIFICATION_REQUESTED = "fathom_verification_requested"
"""Payload: the trust id for which a chain verification job has just been queued."""
READ_WAITING = "fathom_read_waiting"
"""Payload: ``<trust_id>:<sequence>``, a read that has waited a moment for the trust's read models to reach
``sequence``: the projector then applies the trust from the event store instead of waiting for the broker."""

log = logging.getLogger(__name__)


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def notify(connection: Connection, channel: str, payload: str) -> None:
    """Send ``payload`` on ``channel`` at the commit of ``connection``'s transaction (not at all on a rollback):
    listeners hear of a change only once it can be read."""
    connection.execute(_NOTIFY, {"channel": channel, "payload": payload})


def parse_notification(payload: str) -> tuple[str, int] | None:
    """``'trust-a:42'`` (a ``fathom_projected`` or ``fathom_read_waiting`` payload) → ``('trust-a', 42)``; None
    for anything malformed."""
    trust_id, separator, sequence = payload.rpartition(":")
    if not separator or not trust_id or not sequence.isdigit():
        return None
    return trust_id, int(sequence)


def conninfo_for(database_url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as the libpq connection string psycopg takes."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChannelListener:
    """LISTENs on one channel (or a few) over a dedicated connection and hands each payload to :meth:`received`.

    Subclasses say what a notification means by overriding :meth:`received`; they may share
    ``_condition`` to wake their own waiters. The connection is re-opened (with backoff while the
    server is down) for as long as the listener runs.
    """

    MAX_RECONNECT_DELAY_S = 30.0

    def __init__(self, conninfo: str, channel: str, reconnect_delay_s: float = 0.5,
                 more_channels: Sequence[str] = ()) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._channels = (channel, *more_channels)
        self._reconnect_delay_s = reconnect_delay_s
        self._condition = threading.Condition()
        self._sessions = 0
        self._listening = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def received(self, payload: str) -> None:
        """Called on the listener's thread for each notification."""

    def ensure_running(self) -> None:
        """Start the thread on first use, and again in a forked worker (threads do not survive fork)."""
        with self._condition:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name=f"listen-{self._channel}", daemon=True)
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

        Notifications sent while no connection is up are lost; receivers then rely on their interval.
        """
        with self._condition:
            return self._condition.wait_for(lambda: self._listening and self._sessions > after_sessions, timeout)

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
                log.warning("listener on %s has no connection (%s); retrying in %.1f s", self._channel, exc, delay)
                self._stopping.wait(delay)
            finally:
                with self._condition:
                    self._listening = False

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
            for channel in self._channels:
                connection.execute(f"LISTEN {channel}")
            with self._condition:
                self._sessions += 1
                self._listening = True
                self._condition.notify_all()
            log.info("listening on %s", ", ".join(self._channels))
            while not self._stopping.is_set():
                # The timeout only bounds how long stop() waits for this thread.
                for notification in connection.notifies(timeout=1.0):
                    self.received(notification.payload)
