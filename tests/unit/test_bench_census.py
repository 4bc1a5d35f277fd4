"""The benchmark's CPU census puts each process group's CPU under its own name, and a busy part shows as busy."""

import subprocess
import sys

from fathom_infra.local_servers import wait_until
from tests.bench.census import AUTOVACUUM, Census, census
from tests.process_support import cpu_seconds


def _group(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def test_a_busy_group_is_counted_and_an_idle_one_is_not() -> None:
    busy, idle = _group("while True: pass"), _group("import time; time.sleep(60)")
    try:
        with census({"busy": busy.pid, "idle": idle.pid}) as used:
            start = cpu_seconds(busy.pid)
            wait_until(lambda: cpu_seconds(busy.pid) - start >= 0.5, 30, what="the busy process's CPU")
        assert used.seconds["busy"] >= 0.4
        assert used.seconds["idle"] < 0.1
        assert used.wall >= 0.4
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()


def test_the_line_names_each_part_with_autovacuum_under_postgresql() -> None:
    used = Census(seconds={"reports": 3.14, "PostgreSQL": 1.2, AUTOVACUUM: 0.8, "benchmark clients": 0.5})
    assert used.line() == "reports 3.1 s, PostgreSQL 1.2 s (autovacuum 0.8 s), benchmark clients 0.5 s"
