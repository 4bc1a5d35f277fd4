"""When a read's wait asks the projector for its trust (``wait_for_position``'s ``ask_projector``)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from fathom_infra.local_servers import free_port
from fathom_reports.loading import freshness
from fathom_reports.loading.freshness import ASK_PROJECTOR_AFTER_S, Reading, wait_for_position
from fathom_reports.loading.store import ReadModelStore


class ClockedListener:
    """The primary's notifications as the wait sees them; each pause moves the fake clock on by its length."""

    def __init__(self, notified: int, clock: list[float]) -> None:
        self._notified, self._clock = notified, clock
        self.pauses: list[float] = []

    def notified(self, trust_id: str) -> int:
        return self._notified

    def wait(self, trust_id: str, at_least: int, seen: int, timeout: float) -> bool:
        self.pauses.append(timeout)
        self._clock[0] += timeout
        return False


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(freshness.time, "monotonic", lambda: now[0])
    return now


def test_a_wait_that_lasts_asks_the_projector_once_when_it_has_waited_long_enough(clock: list[float]) -> None:
    asked: list[float] = []
    positions = iter([40, 40, 40, 40, 42])
    listener = ClockedListener(notified=40, clock=clock)
    assert wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=10, poll_interval_s=0.15,
                             ask_projector=lambda: asked.append(clock[0])) == 42
    assert asked == [pytest.approx(1000.0 + ASK_PROJECTOR_AFTER_S)]
    assert listener.pauses == pytest.approx([ASK_PROJECTOR_AFTER_S, 0.15, 0.15, 0.15])


def test_a_wait_over_before_then_asks_nothing(clock: list[float]) -> None:
    asked: list[float] = []
    positions = iter([40, 42])
    listener = ClockedListener(notified=40, clock=clock)
    wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=10, poll_interval_s=0.15,
                      ask_after_s=0.5, ask_projector=lambda: asked.append(clock[0]))
    assert asked == [] and listener.pauses == pytest.approx([0.15])


def test_a_replica_behind_a_primary_that_has_the_sequence_asks_nothing(clock: list[float]) -> None:
    """The projector has done its part; only the replica's replay is awaited."""
    asked: list[float] = []
    positions = iter([40] * 12 + [42])
    listener = ClockedListener(notified=42, clock=clock)
    wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=10, poll_interval_s=0.15,
                      ask_projector=lambda: asked.append(clock[0]))
    assert asked == [] and sum(listener.pauses) > ASK_PROJECTOR_AFTER_S


def test_a_primary_that_cannot_take_the_ask_leaves_the_read_waiting(caplog: pytest.LogCaptureFixture) -> None:
    """The ask is a hint: refused (here: nothing listens on the port), it is logged and the read goes on."""
    nowhere = create_engine(f"postgresql+psycopg://fathom@127.0.0.1:{free_port()}/fathom?connect_timeout=2")
    store = ReadModelStore(nowhere, "postgresql+psycopg://unused", consistency_timeout_s=1)
    store.ask_projector("trust-a", 42)
    assert "could not ask the projector for trust trust-a" in caplog.text
    nowhere.dispose()


def test_a_wait_starts_from_the_reading_that_found_it_behind(clock: list[float]) -> None:
    """The caller's reading (the store's ``behind``) is the wait's first: no second read before the first pause,
    one transaction less for every read that waits."""
    reads: list[float] = []
    listener = ClockedListener(notified=40, clock=clock)

    def read_position() -> int:
        reads.append(clock[0])
        return 42

    assert wait_for_position(read_position, listener, "t", 42, timeout_s=10, poll_interval_s=0.15,
                             first=Reading(seen=40, position=40)) == 42
    assert listener.pauses == pytest.approx([0.15]) and reads == [pytest.approx(1000.15)]
