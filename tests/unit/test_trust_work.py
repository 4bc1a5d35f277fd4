"""``run_trust_work``: which trusts a background loop visits, on a fake listener with the full sweep an hour away.

Each loop (relay, change topics, webhooks, verifier) visits a trust when a notification names it, when its
own work asked for another visit, after each (re)connect of the listener, and on the rare sweep. Here the
sweep never comes during a test, so every visit past the first is one of the other reasons.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fathom_infra.local_servers import wait_until
from fathom_shared.trust_work import run_trust_work

TRUSTS = ["trust-a", "trust-b", "trust-c"]
AN_HOUR = 3600.0


class FakeListener:
    """Stands in for :class:`fathom_shared.trust_work.NotifiedTrusts`: the test notifies and reconnects it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._trusts: set[str] = set()
        self._sessions = 1

    def ensure_running(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def notify(self, trust_id: str) -> None:
        with self._condition:
            self._trusts.add(trust_id)
            self._condition.notify_all()

    def reconnect(self) -> None:
        with self._condition:
            self._sessions += 1
            self._condition.notify_all()

    def take(self, timeout_s: float, sessions_seen: int) -> tuple[set[str], int]:
        with self._condition:
            self._condition.wait_for(lambda: self._trusts or self._sessions != sessions_seen, timeout_s)
            trusts, self._trusts = self._trusts, set()
            return trusts, self._sessions


class Visits:
    """Counts each trust's visits; ``answer`` says what the work returns (or raises) for a trust's nth visit."""

    def __init__(self, answer: Callable[[str, int], float | None] = lambda trust_id, n: None) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._answer = answer

    def __call__(self, trust_id: str) -> float | None:
        with self._lock:
            self.counts[trust_id] += 1
            n = self.counts[trust_id]
        return self._answer(trust_id, n)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)


@contextmanager
def looping(visits: Visits, listener: FakeListener) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=run_trust_work, args=("test", visits, listener, lambda: TRUSTS, stop, AN_HOUR),
                              daemon=True)
    thread.start()
    try:
        wait_until(lambda: all(visits.snapshot()[t] >= 1 for t in TRUSTS), 10, what="the first sweep")
        yield
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_after_the_first_sweep_only_notified_trusts_are_visited() -> None:
    visits, listener = Visits(), FakeListener()
    with looping(visits, listener):
        listener.notify("trust-b")
        wait_until(lambda: visits.snapshot()["trust-b"] == 2, 10, what="the notified trust visited")
        listener.notify("trust-b")
        wait_until(lambda: visits.snapshot()["trust-b"] == 3, 10, what="the notified trust visited again")
    assert visits.snapshot() == Counter({"trust-a": 1, "trust-b": 3, "trust-c": 1})


def test_a_reconnect_of_the_listener_sweeps_every_trust_at_once() -> None:
    """Notifications sent while the listener had no connection are lost: the new connection is followed by a sweep."""
    visits, listener = Visits(), FakeListener()
    with looping(visits, listener):
        listener.reconnect()
        wait_until(lambda: all(visits.snapshot()[t] == 2 for t in TRUSTS), 10, what="every trust visited again")


def test_a_trust_whose_work_asked_for_another_visit_gets_it_without_a_notification() -> None:
    """A webhook retry falls due by the clock: no notification says so."""
    visits = Visits(lambda trust_id, n: 0.05 if trust_id == "trust-a" and n < 3 else None)
    listener = FakeListener()
    with looping(visits, listener):
        wait_until(lambda: visits.snapshot()["trust-a"] == 3, 10, what="trust-a visited when due, twice")
    assert visits.snapshot()["trust-b"] == visits.snapshot()["trust-c"] == 1


def test_a_trust_whose_work_failed_stays_due_and_is_retried() -> None:
    """A publish that failed while the broker was down is retried after the backoff, notification or not."""
    def answer(trust_id: str, n: int) -> None:
        if trust_id == "trust-b" and n == 1:
            raise ConnectionError("broker unavailable")

    visits, listener = Visits(answer), FakeListener()
    with looping(visits, listener):
        wait_until(lambda: visits.snapshot()["trust-b"] == 2, 10, what="trust-b retried")
    assert visits.snapshot() == Counter({"trust-a": 1, "trust-b": 2, "trust-c": 1})
