"""How a background process finds per-trust work: notifications first, a rare full sweep for safety.

Visiting every active trust (a tenant transaction each) every second costs CPU in proportion to the
number of trusts even when nothing happens. So a worker loop (relay, change-topic publisher, webhook
worker, verifier) visits

- each trust named by a notification on its channel, at once (:class:`NotifiedTrusts`);
- each trust its own work asked to revisit, when that falls due (a webhook retry, a publish that failed
  while the broker was down, a verification with more to do);
- every active trust once every ``sweep_s`` and at once after each (re)connect of the listener.

PostgreSQL delivers a notification to every connected listener once the sending transaction commits;
one can only be lost while the listener has no connection, and each new connection is followed by a
full sweep. The periodic sweep bounds what is left: work left by another instance of the process (a
lapsed claim, a retry it scheduled before it died) or by a writer that sent no notification.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from fathom_shared.logs import trust_context
from fathom_shared.notifications import ChannelListener
from fathom_shared.process import Backoff

log = logging.getLogger("fathom.trust_work")

FULL_SWEEP_S = 30.0
"""How often every active trust is visited whatever the notifications said (see the module docstring)."""
STOP_CHECK_S = 1.0
"""The longest a loop waits without looking at its stop event (a wake-up that does no database work)."""

TrustWork = Callable[[str], "float | None"]
"""Does a trust's pending work; returns seconds until the trust should be visited again, None for not
until a notification or the sweep says so. Raises to keep the trust pending and back off (an outage)."""


class NotifiedTrusts(ChannelListener):
    """The trusts named by notifications on its channels since the loop last took them (``trust_of`` reads the
    trust id out of a payload, None to ignore it)."""

    def __init__(self, conninfo: str, channel: str, trust_of: Callable[[str], str | None] = lambda p: p or None,
                 more_channels: Sequence[str] = ()) -> None:
        super().__init__(conninfo, channel, more_channels=more_channels)
        self._trust_of = trust_of
        self._trusts: set[str] = set()

    def received(self, payload: str) -> None:
        trust_id = self._trust_of(payload)
        if trust_id is None:
            return
        with self._condition:
            self._trusts.add(trust_id)
            self._condition.notify_all()

    def take(self, timeout_s: float, sessions_seen: int) -> tuple[set[str], int]:
        """Wait up to ``timeout_s`` for a notification or a new connection; the trusts notified and the
        number of connections opened so far (more than ``sessions_seen``: sweep, some may have been missed)."""
        with self._condition:
            self._condition.wait_for(lambda: self._trusts or self._sessions != sessions_seen, timeout_s)
            trusts, self._trusts = self._trusts, set()
            return trusts, self._sessions


def run_trust_work(name: str, work: TrustWork, notified: NotifiedTrusts, all_trusts: Callable[[], Iterable[str]],
                   stop: threading.Event, sweep_s: float = FULL_SWEEP_S) -> None:
    """Call ``work`` for the trusts notified, due again, or swept (see the module docstring), until ``stop``."""
    notified.ensure_running()
    due: dict[str, float] = {}  # trust -> monotonic time its next visit is due
    backoff, sessions, next_sweep = Backoff(), -1, 0.0
    try:
        while not stop.is_set():
            try:
                now = time.monotonic()
                wait = min(STOP_CHECK_S, next_sweep - now, *(at - now for at in due.values()))
                trusts, current = notified.take(max(0.0, wait), sessions)
                now = time.monotonic()
                due.update((trust_id, now) for trust_id in trusts)
                if current != sessions or now >= next_sweep:
                    due.update((trust_id, now) for trust_id in all_trusts())
                    sessions, next_sweep = current, now + sweep_s
                _visit_due(work, due, stop)
                backoff.succeeded()
            except Exception as exc:  # broker or database down: the trusts stay due; back off and carry on
                log.warning("%s: %s; retrying in %.1fs", name, exc, backoff.next_s)
                backoff.wait(stop)
    finally:
        notified.stop()


def _visit_due(work: TrustWork, due: dict[str, float], stop: threading.Event) -> None:
    """Work every trust whose visit is due; a trust stays in ``due`` until its work returned."""
    now = time.monotonic()
    for trust_id in sorted(t for t, at in due.items() if at <= now):
        if stop.is_set():
            return
        with trust_context(trust_id):
            again = work(trust_id)
        if again is None:
            del due[trust_id]
        else:
            due[trust_id] = time.monotonic() + max(0.0, again)
