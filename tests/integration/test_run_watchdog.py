"""A run killed without its clean-up leaves nothing running (:mod:`tests.run_watchdog`): real processes, no servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fathom_infra.local_servers import wait_until
from tests.process_support import alive
from tests.run_watchdog import MARK

REPO = Path(__file__).resolve().parents[2]

RUN = f"""
import os, subprocess, sys, time
from tests.run_watchdog import watch_this_run
watch_this_run()
sleep = [sys.executable, "-c", "import time; time.sleep(600)"]
# Each in a session of its own, as the servers and services are; the second without the run's mark.
marked = subprocess.Popen(sleep, start_new_session=True)
unmarked = subprocess.Popen(sleep, start_new_session=True,
                            env={{k: v for k, v in os.environ.items() if k != "{MARK}"}})
print(marked.pid, unmarked.pid, flush=True)
time.sleep(600)
"""


def test_what_a_killed_run_started_goes_with_it_and_nothing_else() -> None:
    run = subprocess.Popen([sys.executable, "-c", RUN], cwd=REPO, stdout=subprocess.PIPE, text=True,
                           start_new_session=True)
    started: list[int] = []
    try:
        line = run.stdout.readline()
        assert line, f"the run printed nothing (exit {run.poll()})"
        started = [int(pid) for pid in line.split()]
        marked, unmarked = started
        assert alive(marked) and alive(unmarked)

        run.send_signal(signal.SIGKILL)  # no clean-up runs
        run.wait(10)

        wait_until(lambda: not alive(marked), 15, interval=0.1, what="the run's own process to be killed")
        assert alive(unmarked)
    finally:
        run.kill()
        run.wait(10)
        run.stdout.close()
        for pid in started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # the watchdog's, as it should be
                continue
