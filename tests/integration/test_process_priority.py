"""The background processes run behind the ones that answer people: ``lower_cpu_priority`` and ``run_process``.

Real child processes (Linux), no servers: each child reports its threads' ``nice`` and its session group's
(``/proc/self/autogroup``), which only a process that leads its session may change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fathom_shared.config import load_settings
from fathom_shared.process import session_group_nice

pytestmark = pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="Linux autogroup scheduling")

REPORT = """
import json, os, threading
from pathlib import Path
from fathom_shared.process import session_group_nice
def report():
    threads = {int(t.name): os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in Path("/proc/self/task").iterdir()}
    print(json.dumps({"threads": sorted(threads.values()), "group": session_group_nice()}), flush=True)
"""

LOWERED = REPORT + """
import sys
from fathom_shared.process import lower_cpu_priority
waiting = threading.Event()
before = threading.Thread(target=waiting.wait)  # a thread the process already has
before.start()
lower_cpu_priority(int(sys.argv[1]))
after = threading.Thread(target=waiting.wait)  # and one it starts later
after.start()
report()
waiting.set()
"""


def child(code: str, *args: str, new_session: bool = True, nice: int = 0,
          env: dict[str, str] | None = None) -> dict[str, object]:
    """What ``code`` reported, run in a child: in a session of its own unless told, with ``env`` (or this one's)."""
    prefix = ["nice", "-n", str(nice)] if nice else []
    done = subprocess.run([*prefix, sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          start_new_session=new_session, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_process_leading_its_session_lowers_every_thread_and_its_session_group() -> None:
    """As ``fathom up`` starts each service: in its own session, where only the group's nice weighs against the
    API's and PostgreSQL's sessions."""
    assert child(LOWERED, "7") == {"threads": [7, 7, 7], "group": 7}


def test_a_process_in_someone_elses_session_leaves_that_session_alone() -> None:
    """A service started from a terminal must not lower the terminal's (and everything else in it)."""
    before = session_group_nice()
    if before is None:
        pytest.skip("this session is the machine's root group (init's), whose priority no process can change")
    if before >= 7:
        pytest.skip(f"this session's group is at nice {before} already: lowering it to 7 would change nothing")
    reported = child(LOWERED, "7", new_session=False)
    assert reported["threads"] == [7, 7, 7]
    assert reported["group"] == before == session_group_nice()


def test_the_machines_root_group_reads_as_no_session_group() -> None:
    """``init``'s session is in the kernel's root group, whose ``/proc/<pid>/autogroup`` is empty: so is every
    process a CI runner starts in that session (a container's init that leads a session of its own has a group)."""
    if Path("/proc/1/autogroup").read_text():
        pytest.skip("pid 1 has a session group of its own here")
    assert session_group_nice(1) is None


def test_processes_started_together_all_lower_their_session_groups() -> None:
    """As ``fathom up`` starts the four background processes: without ``CAP_SYS_ADMIN`` the kernel takes one
    group change per 0.1 s on the whole machine and refuses the rest (``EAGAIN``), so each waits its turn."""
    children = [subprocess.Popen([sys.executable, "-c", LOWERED, "7"], stdout=subprocess.PIPE, text=True,
                                 start_new_session=True) for _ in range(4)]
    reports = [json.loads(process.communicate(timeout=60)[0].strip().splitlines()[-1]) for process in children]
    assert reports == [{"threads": [7, 7, 7], "group": 7}] * 4


def test_priority_is_only_ever_lowered() -> None:
    """Started at nice 12 (an operator's ``nice``), a setting of 5 keeps 12: raising it back needs privileges."""
    assert child(LOWERED, "5", nice=12) == {"threads": [12, 12, 12], "group": 5}


def test_nothing_changes_at_zero() -> None:
    assert child(LOWERED, "0") == {"threads": [0, 0, 0], "group": 0}


STARTED = REPORT + """
from fathom_shared.process import run_process
run_process("verifier", lambda settings, stop: report())
"""


@pytest.mark.parametrize(("setting", "expected"), [(None, 19), ("9", 9), ("0", 0)])
def test_every_long_running_process_starts_behind_the_services_that_answer_people(
        setting: str | None, expected: int) -> None:
    """``run_process`` (relay, projector, delivery process, verifier) applies ``FATHOM_BACKGROUND_NICE``; 19 unless
    set."""
    env = {key: value for key, value in os.environ.items() if key != "FATHOM_BACKGROUND_NICE"}
    if setting is not None:
        env["FATHOM_BACKGROUND_NICE"] = setting
    reported = child(STARTED, env=env)
    assert set(reported["threads"]) == {expected} and reported["group"] == expected


@pytest.mark.parametrize("value", ["20", "-1", "low"])
def test_a_priority_linux_does_not_have_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match="FATHOM_BACKGROUND_NICE"):
        load_settings({"FATHOM_BACKGROUND_NICE": value})
