"""Child processes of ``fathom up`` (and of the end-to-end tests): started by pid, stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from fathom_infra.local_servers import stop_group, wait_until


@dataclass
class ServiceProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, wait_seconds: float = 60) -> ServiceProcess:
        self.launch()
        self.wait_ready(wait_seconds)
        return self

    def wait_ready(self, wait_seconds: float = 60) -> None:
        """Until its readiness URL answers 200 (at once without one); raises if the process exits first."""
        if self.ready_url:
            wait_until(self._ready, wait_seconds, interval=0.1, what=f"{self.name} at {self.ready_url}")

    def launch(self) -> ServiceProcess:
        """Start the process without waiting for it to be ready (what a restart does; :meth:`start` waits).

        Its own session and process group, so a Ctrl-C at the terminal reaches only ``fathom up``, which
        stops each service in order, and a stop can reach every process the service started."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # appended to across restarts; the child keeps its own copy
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def _ready(self) -> bool:
        if not self.alive:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
        try:
            return requests.get(self.ready_url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the service (gunicorn: its workers finish what they hold), then anything left in its group."""
        if self.process is not None:
            stop_group(self.process, sig, timeout=20)

    def kill(self) -> None:
        """SIGKILL, no goodbyes: what the reliability tests do to prove nothing is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)


def service_env(base: dict[str, str] | None = None, **overrides: str) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


GUNICORN_CONFIG = "python:fathom_shared.gunicorn_config"
"""The configuration every gunicorn of ours loads: its workers die with their master, and it logs as the
services do (see that module)."""


REPORTS_THREADS = 16
"""Threads per reports worker. A read with ``consistency=at_least:N`` holds its thread while it waits for the
projector (blocked, no CPU), so at twenty saves a second each followed by such a read, four threads per worker
were all waiting and the next reads queued in front of the service for as long as the waits above them took;
sixteen (32 in the two workers of a 2-core machine) leave room beside the fair-use limit on one trust's waits
(12, ``FATHOM_LIMIT_WAIT``; it was 6 of 8 threads) for every other trust's reads."""


def gunicorn(app: str, port: int, workers: int = 2, threads: int = 4) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, "--workers", str(workers),
            "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "10",
            "--access-logfile", "-", app]
