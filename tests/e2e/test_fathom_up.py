"""``fathom up`` supervises the stack: a killed service or server comes back, and a stop leaves nothing running.

The real command, started as a user would (``python -m fathom_infra.cli up --no-demo``) with its own
PostgreSQL and broker under a fresh home; the tests kill its children with SIGKILL and read its output.
Every process of the stack carries a marker in its environment, so whatever it started (services, their
workers, the servers) can be found, and killed at the end whatever happens to the test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from fathom_infra.local_servers import group_members, wait_until
from fathom_shared.process import session_group_nice
from tests.process_support import alive, children, marked
from tests.support import bearer

MARK = "FATHOM_UP_TEST_MARK"
SERVICES = {"api": "fathom_api.wsgi:app", "reports": "fathom_reports.wsgi:app",
            "streams": "fathom_reports.stream_wsgi:app", "relay": "fathom_relay", "delivery": "fathom_delivery",
            "verifier": "fathom_verifier", "projector": "fathom_projector", "postgres": "bin/postgres",
            "broker": "noida-db"}
"""Each child of ``fathom up``, by a word of its command line."""
WORKERS_GONE_WITHIN_S = 3.0


@dataclass
class Up:
    process: subprocess.Popen
    home: Path
    output: Path
    mark: str
    leaders: set[int] = field(default_factory=set)
    """Every child of ``fathom up`` seen (each leads its own process group), restarted ones included."""

    def text(self) -> str:
        return self.output.read_text()

    def url(self, label: str) -> str:
        return re.search(rf"^  {label}\s+(http://127\.0\.0\.1:\d+)", self.text(), re.MULTILINE).group(1)

    def token(self) -> str:
        return re.search(r"^  trust_leader:\n    (\S+)$", self.text(), re.MULTILINE).group(1)

    def database_url(self) -> str:
        return re.search(r"^  PostgreSQL\s+(\S+)$", self.text(), re.MULTILINE).group(1)

    def pids(self) -> dict[str, int]:
        """Each service's current pid (the gunicorn master for the web services)."""
        found = {}
        for pid in children(self.process.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
            for name, word in SERVICES.items():
                if any(word in arg for arg in argv):
                    found[name] = pid
        self.leaders.update(found.values())
        return found

    def lines(self, pattern: str) -> list[re.Match]:
        return [m for line in self.text().splitlines() if (m := re.search(pattern, line))]

    def leftovers(self) -> set[int]:
        return set(marked(MARK, self.mark)) | {pid for leader in self.leaders for pid in group_members(leader)}

    def restarted(self, name: str, old_pid: int) -> int:
        """Waits for the exit and restart lines of ``name`` killed as ``old_pid``; the new pid."""
        wait_until(lambda: self.lines(rf"^\d\d:\d\d:\d\d {name} \(pid {old_pid}\) exited \(killed by SIGKILL\) "
                                      rf"after [\d.]+ s; see \S+; restarting in \d+ s \(restart \d+ in a row\)$"),
                   30, what=f"the line saying {name} exited")
        wait_until(lambda: self.lines(rf"^\d\d:\d\d:\d\d {name} restarted \(pid \d+\)$"), 60,
                   what=f"the line saying {name} restarted")
        new_pid = int(self.lines(rf"{name} restarted \(pid (\d+)\)")[-1].group(1))
        wait_until(lambda: self.pids().get(name) == new_pid, 10, what=f"{name} running as pid {new_pid}")
        return new_pid


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    home = tmp_path_factory.mktemp("fathom-up")
    mark = uuid.uuid4().hex
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env.update({MARK: mark, "PYTHONUNBUFFERED": "1"})
    output = home / "up.out"
    with open(output, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "fathom_infra.cli", "up", "--home", str(home / "h"),
                                    "--no-demo"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True)
    running = Up(process, home, output, mark)

    def started() -> bool:
        assert process.poll() is None, f"fathom up exited: {output.read_text()}"
        return "Ctrl-C stops everything." in output.read_text()

    try:
        wait_until(started, 300, interval=0.2, what="fathom up to start the stack")
        assert set(running.pids()) == set(SERVICES), running.pids()
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for pid in running.leftovers():  # only if the test failed: nothing of the stack outlives the module
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="Linux autogroup scheduling")
def test_the_background_processes_run_behind_the_ones_that_answer_people(up: Up) -> None:
    """Each process ``fathom up`` starts leads its own session, so the sessions' groups are what the kernel weighs
    against one another: the relay's, projector's, delivery process's and verifier's at 19, the rest untouched."""
    background = ("relay", "projector", "delivery", "verifier")
    pids = up.pids()
    wait_until(lambda: all(session_group_nice(pids[name]) == 19 for name in background), 60,
               what="the background processes to lower their priority")
    for name in background:
        assert {os.getpriority(os.PRIO_PROCESS, int(task.name))
                for task in Path(f"/proc/{pids[name]}/task").iterdir()} == {19}, name
    assert {name: session_group_nice(pids[name]) for name in ("api", "reports", "streams", "postgres", "broker")} == {
        "api": 0, "reports": 0, "streams": 0, "postgres": 0, "broker": 0}


def test_a_service_killed_with_sigkill_comes_back_and_its_workers_go(up: Up) -> None:
    api = up.pids()["api"]
    workers = children(api)
    assert workers

    os.kill(api, signal.SIGKILL)

    wait_until(lambda: not any(alive(worker) for worker in workers), WORKERS_GONE_WITHIN_S, interval=0.05,
               what=f"the workers {workers} of the killed master to exit")
    new_api = up.restarted("api", api)
    assert new_api != api
    assert up.lines(rf"api \(pid {api}\) exited \(killed by SIGKILL\) after [\d.]+ s; see \S+api\.log; "
                    r"restarting in 1 s \(restart 1 in a row\)$")
    wait_until(lambda: _answers(up.url("command API") + "/readyz"), 60, interval=0.2,
               what="the restarted API to be ready")
    assert set(children(new_api)).isdisjoint(workers) and children(new_api)


def test_postgres_killed_with_sigkill_comes_back_and_the_stack_works_again(up: Up) -> None:
    postmaster = up.pids()["postgres"]

    os.kill(postmaster, signal.SIGKILL)

    up.restarted("postgres", postmaster)
    wait_until(lambda: _connects(up.database_url()), 60, interval=0.2, what="the restarted PostgreSQL")
    leader = bearer(up.token())
    school = f"sch-{uuid.uuid4().hex[:6]}"

    answers: list[requests.Response] = []

    def written() -> bool:
        answers.append(requests.post(up.url("command API") + "/v1/schools", json={"id": school, "name": "Elm"},
                                     headers=leader, timeout=10))
        assert answers[-1].status_code in (201, 503), answers[-1].text  # 503 while its pool reconnects
        return answers[-1].status_code == 201

    wait_until(written, 60, interval=0.2, what="a write through the API after the restart")
    sequence = answers[-1].json()["last_sequence"]
    # Relay, broker, projector and reports all carried on: the write becomes visible through the read side.
    directory = requests.get(up.url("reports") + "/v1/directory", headers=leader, timeout=60,
                             params={"consistency": f"at_least:{sequence}"})
    assert directory.status_code == 200, directory.text
    assert school in directory.text


def test_sigterm_after_a_restart_leaves_no_process_of_the_stack(up: Up) -> None:
    projector = up.pids()["projector"]
    os.kill(projector, signal.SIGKILL)
    up.restarted("projector", projector)
    up.pids()
    assert up.leftovers(), "the stack's processes are found before the stop"

    up.process.send_signal(signal.SIGTERM)

    assert up.process.wait(120) == 0
    assert "stopped everything fathom up started." in up.text()
    assert up.leftovers() == set()
    assert not any(alive(pid) for pid in up.leaders)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False  # not listening yet, or its workers still loading the app


def _connects(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=1).close()
        return True
    except psycopg.OperationalError:
        return False

