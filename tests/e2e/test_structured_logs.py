"""Every line every service writes is one JSON object, and a request's lines name it, its trust and its caller:
an operator can follow one request, or one trust, through the logs of the whole stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fathom_infra.local_servers import wait_until
from fathom_shared.config import Settings
from tests.running_system import RunningSystem, running_system
from tests.support import SmallTrust, token_for

REQUEST_ID = "log-test-0001"


@pytest.fixture(scope="module")
def system(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The stack with logs of its own (the shared e2e log files hold other modules' stacks)."""
    with running_system(settings, tmp_path_factory.mktemp("structured-logs")) as running:
        yield running


def lines_of(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}: a line that is not JSON: {line!r}")
    return parsed


def test_each_line_is_json_and_a_requests_lines_name_its_id_trust_and_caller(system, trust):
    leader = token_for(system.settings, trust, ["trust_leader"], sub="head")
    small = SmallTrust().create(system.poster(leader))
    wrote = system.post(leader, "/v1/schools", {"id": "sch-logs", "name": "Logged Primary"}, **{
        "X-Request-Id": REQUEST_ID})
    assert wrote.status_code == 201, wrote.text
    read = system.get(leader, "/v1/classes/4A/analysis", consistency=f"at_least:{small.last_sequence}")
    assert read.status_code == 200, read.text
    refused = system.post("not-a-token", "/v1/schools", {"id": "x", "name": "x"})
    assert refused.status_code == 401

    def written() -> bool:
        """gunicorn writes a request's access line after sending the answer, and the relay its line after the
        commit the projector may already have acted on: wait for the lines asked about."""
        api, reports = lines_of(system.processes["api"].log_path), lines_of(system.processes["reports"].log_path)
        return (any(line.get("request_id") == REQUEST_ID and "status" in line for line in api)
                and any(line.get("status") == 401 for line in api)
                and any(line.get("path") == "/v1/classes/4A/analysis" for line in reports)
                and any(line.get("trust") == trust for line in lines_of(system.processes["relay"].log_path)))

    wait_until(written, 30, what="the requests' access lines")
    logs = {name: lines_of(process.log_path) for name, process in system.processes.items()}
    for name, lines in logs.items():
        assert lines, f"{name} wrote nothing"
        for line in lines:
            assert {"ts", "level", "service", "event"} <= line.keys(), (name, line)

    api_access = [line for line in logs["api"] if line.get("request_id") == REQUEST_ID and "status" in line]
    assert [(line["trust"], line["subject"], line["status"], line["method"], line["path"]) for line in api_access] == [
        (trust, "head", 201, "POST", "/v1/schools")]
    assert api_access[0]["service"] == "api"
    reads = [line for line in logs["reports"] if line.get("path") == "/v1/classes/4A/analysis"]
    assert reads and all(line["trust"] == trust and line["subject"] == "head" and line["request_id"] for line in reads)
    unauthenticated = [line for line in logs["api"] if line.get("status") == 401]
    assert unauthenticated and all("trust" not in line and line["request_id"] for line in unauthenticated)
    published = [line for line in logs["relay"] if line.get("trust") == trust]
    assert published, "the relay's lines about the trust's events do not name it"
