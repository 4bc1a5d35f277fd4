"""gunicorn configuration of every web service: a worker dies with its master, its application's objects are
out of the collector's way, and gunicorn's own lines are the services' JSON
(:mod:`fathom_shared.web.gunicorn_logging`).

``gunicorn --config python:fathom_shared.gunicorn_config …`` (see ``fathom_infra.processes.gunicorn``; the
compose file and the image use the same).

Why workers die with their master: a worker notices its master is gone only on its own loop (``getppid()``
checked about once a second), and then treats that like a graceful stop: it keeps serving what is in flight
for up to ``--graceful-timeout`` (10 s here), and the interpreter's exit then waits for the request threads
themselves, so a worker holding a change-feed stream or a long freshness wait lives on for as long as the
request does. Meanwhile it still holds the listening socket and the operations port, so a supervisor that
restarts the service finds its port taken, and the orphan answers from a process nobody supervises. A master
killed with SIGKILL is a crash, not a stop: its workers are killed with it (``PR_SET_PDEATHSIG``), as the
kernel would do for a container's processes. Requests in flight then fail like the master's own did; a command
is one transaction and retried with its idempotency key.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

from fathom_shared.process import freeze_loaded_heap

logger_class = "fathom_shared.web.gunicorn_logging.JsonLogger"

PR_SET_PDEATHSIG = 1
"""``prctl`` option (``<linux/prctl.h>``): the signal this process gets when its parent thread exits."""


def die_with_parent(expected_parent: int) -> bool:
    """Ask the kernel to SIGKILL this process when its parent exits; exit now if the parent already has.

    Linux only (``prctl``); elsewhere a no-op answering False, and gunicorn's own ``getppid()`` check
    remains. The check after ``prctl`` closes the window in which the parent died before the request."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != expected_parent:
        os._exit(1)  # the master died between fork and prctl: nobody would ever signal us
    return True


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn hook, run in the new worker right after ``fork()`` (``worker.ppid`` is the master's pid).

    gunicorn forks workers from the master's main thread only, which lives as long as the master."""
    die_with_parent(worker.ppid)


def post_worker_init(worker: Any) -> None:
    """gunicorn hook, run in a worker once it has loaded the application: the loaded heap is frozen
    (:func:`fathom_shared.process.freeze_loaded_heap`). In the reports service a full collection over it
    was a 62 ms pause of every request of the worker each time it came due: the benchmark's 4-client Class
    Analysis reads had their slowest requests from several clients at one moment with nothing else running."""
    freeze_loaded_heap()
