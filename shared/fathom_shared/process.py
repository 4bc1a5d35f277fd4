"""What every long-running process (relay, projector, delivery, verifier) does at start."""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Callable

from fathom_shared.config import Settings, load_settings
from fathom_shared.logs import configure_logging
from fathom_shared.production_check import exit_if_unsafe


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process's loops finish their step and return, so a stop
    (an orchestrator's, or Ctrl+C) never cuts a transaction or a publish in half."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class Backoff:
    """How long a worker loop waits after a failure (a database or broker outage): doubling from ``first``
    up to ``most``, back to ``first`` after the next success, so an outage is retried often at first and
    then without hammering whatever is down."""

    def __init__(self, first_s: float = 0.5, most_s: float = 5.0) -> None:
        self.first_s, self.most_s = first_s, most_s
        self.next_s = first_s

    def succeeded(self) -> None:
        self.next_s = self.first_s

    def wait(self, stop: threading.Event) -> None:
        """Wait the current delay (a stop ends it early), then double the next one."""
        stop.wait(self.next_s)
        self.next_s = min(self.next_s * 2, self.most_s)


def freeze_loaded_heap() -> None:
    """Keep what loading the process made (modules, schemas, compiled statements, an application and its engines:
    ~130,000 objects in a projector, ~140,000 in a reports worker) out of every later collection.

    Python's oldest-generation collection walks every tracked object, with the GIL held, so the whole process
    waits while it runs: over a freshly loaded reports worker it took 62 ms, and in a process that appended and
    then projected 60,000 judgements (``tests.bench.projector_pairs``) six of them took 47–86 ms each. Those
    objects live as long as the process, so frozen they are never walked again (the same six collections then
    took 3–15 ms); what the process makes afterwards is collected as before."""
    gc.collect()
    gc.freeze()


def run_process(service: str, run: Callable[[Settings, threading.Event], None]) -> None:
    """Start a long-running process the way every one starts: structured logs to stderr, stop on
    SIGTERM/SIGINT, refuse unsafe production settings (exit), freeze the loaded heap
    (:func:`freeze_loaded_heap`), then ``run(settings, stop)`` until stopped."""
    configure_logging(service)
    stop = stop_on_signals()
    settings = load_settings()
    exit_if_unsafe(settings, service)
    freeze_loaded_heap()
    run(settings, stop)
