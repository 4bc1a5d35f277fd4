"""``stop_on_signals``: the one way the relay, projector, delivery process and verifier learn to stop."""

from __future__ import annotations

import os
import signal

import pytest

from fathom_shared.process import stop_on_signals


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
