"""``stop_on_signals``: the one way the relay, projector, delivery process and verifier learn to stop; ``Backoff``
and ``run_process``: how they retry and start."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from collections.abc import Iterator

import pytest

from fathom_projector import __main__ as projector_main
from fathom_projector import service
from fathom_relay import relay
from fathom_shared import process
from fathom_shared.config import Settings
from fathom_shared.process import Backoff, run_process, stop_on_signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_sets_the_event_instead_of_killing_the_process(sig: signal.Signals) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        stop = stop_on_signals()
        assert not stop.is_set()
        os.kill(os.getpid(), sig)
        assert stop.wait(5)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


class RecordingStop(threading.Event):
    """A stop event that records each wait instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return self.is_set()


def test_backoff_doubles_up_to_its_ceiling_and_starts_over_after_a_success() -> None:
    stop, backoff = RecordingStop(), Backoff(first_s=0.5, most_s=3.0)
    for _ in range(5):
        backoff.wait(stop)
    backoff.succeeded()
    backoff.wait(stop)
    assert stop.waits == [0.5, 1.0, 2.0, 3.0, 3.0, 0.5]


@pytest.fixture
def restored_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``run_process`` installs signal handlers and logging, and freezes the heap: all undone afterwards. It would
    also lower the test process's CPU priority, which cannot be raised back: left alone here (tested in
    ``tests/integration/test_process_priority.py``, in child processes)."""
    monkeypatch.delenv("FATHOM_ENV", raising=False)
    monkeypatch.setenv("FATHOM_BACKGROUND_NICE", "0")
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    handlers = logging.getLogger().handlers[:]
    try:
        yield
    finally:
        gc.unfreeze()
        for s, handler in before.items():
            signal.signal(s, handler)
        logging.getLogger().handlers[:] = handlers


@pytest.mark.usefixtures("restored_process_state")
def test_run_process_hands_the_loaded_settings_and_the_stop_event_to_run() -> None:
    seen: list[tuple[Settings, threading.Event]] = []
    run_process("verifier", lambda settings, stop: seen.append((settings, stop)))
    (settings, stop), = seen
    assert isinstance(settings, Settings) and not stop.is_set()
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait(5)


@pytest.mark.usefixtures("restored_process_state")
def test_run_process_freezes_what_loading_the_process_made_before_running() -> None:
    """Collections of the oldest generation then skip the modules, schemas and engines the process loaded (a
    projector's full collection walked ~130,000 objects, 47–86 ms with the GIL held)."""
    gc.unfreeze()
    loaded = [{"object": n} for n in range(10_000)]  # what a service's modules leave behind
    frozen: list[int] = []
    run_process("verifier", lambda settings, stop: frozen.append(gc.get_freeze_count()))
    assert frozen[0] >= len(loaded)


def test_the_relay_and_the_projector_start_as_every_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    def recorded(service_name: str, run: object) -> None:
        started.append(service_name)

    monkeypatch.setattr(relay, "run_process", recorded)
    monkeypatch.setattr(projector_main, "run_process", recorded)
    relay.main()
    projector_main.main([])
    assert started == ["relay", "projector"]


def test_the_projector_retries_the_broker_at_least_every_five_seconds() -> None:
    """Its reconnection waits double through an outage; capped at 30 s, projection resumed up to 30 s after the
    broker was back. It uses the shared :class:`Backoff`, like every other worker loop."""
    stop, backoff = RecordingStop(), service.Backoff()
    for _ in range(12):  # a long outage: every connection attempt fails
        backoff.wait(stop)
    assert max(stop.waits) == 5.0


class RateLimitedGroup:
    """A session group's ``/proc/self/autogroup`` whose first ``refusals`` writes the kernel refuses (``EAGAIN``:
    another process changed a group less than 0.1 s ago)."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.nice = refusals, 0

    def __truediv__(self, name: str) -> RateLimitedGroup:  # stands for /proc/self: its "autogroup" is itself
        return self

    def write_text(self, text: str) -> None:
        if self.refusals:
            self.refusals -= 1
            raise BlockingIOError(11, "write could not complete without blocking")
        self.nice = int(text)


def fake_clock(monkeypatch: pytest.MonkeyPatch, group: RateLimitedGroup) -> list[float]:
    """The group as ``/proc/self``, and a clock that moves only when the code sleeps; the sleeps it took."""
    slept: list[float] = []
    monkeypatch.setattr(process, "_PROC_SELF", group)
    monkeypatch.setattr(process, "session_group_nice", lambda pid="self": group.nice)
    monkeypatch.setattr(process.time, "sleep", slept.append)
    monkeypatch.setattr(process.time, "monotonic", lambda: sum(slept))
    return slept


def test_a_refused_group_change_waits_its_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    group = RateLimitedGroup(refusals=3)
    slept = fake_clock(monkeypatch, group)
    process._lower_session_group(19)
    assert group.nice == 19 and slept == [process.GROUP_CHANGE_INTERVAL_S] * 3


def test_a_group_change_refused_past_the_patience_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    group = RateLimitedGroup(refusals=10_000)
    slept = fake_clock(monkeypatch, group)
    with pytest.raises(BlockingIOError):
        process._lower_session_group(19)
    assert group.nice == 0 and process.GROUP_CHANGE_PATIENCE_S < sum(slept) < process.GROUP_CHANGE_PATIENCE_S + 0.5


def test_a_process_in_the_machines_root_group_leaves_it_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The root group (``init``'s session) reads as no group, and the kernel refuses any change to it: nothing is
    written and nothing is raised, the threads' own ``nice`` is what applies."""
    group = RateLimitedGroup(refusals=0)
    fake_clock(monkeypatch, group)
    monkeypatch.setattr(process, "session_group_nice", lambda pid="self": None)
    process._lower_session_group(19)
    assert group.nice == 0
