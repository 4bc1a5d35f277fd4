"""Requests generated from both OpenAPI documents, against the real running services.

For every operation of the command API and of the reports service, schemathesis generates valid
(``positive``) and invalid (``negative``) requests from the document the service itself publishes, sends
them with a real token holding several roles, and checks each answer: never a 5xx, a status code the
document lists, a content type the document lists for it, and a body that matches the documented schema.
A failure names the operation, the request (as a curl command) and the answer.

Bounded and reproducible: a fixed number of examples per operation, derandomized, no shrinking. Set
``FATHOM_PROPERTY_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fathom_shared.trusts import create_trust
from tests.running_system import RunningSystem, running_system
from tests.support import SmallTrust, bearer, token_for

EXAMPLES = int(os.environ.get("FATHOM_PROPERTY_EXAMPLES", "5"))


def no_server_error(ctx, response, case) -> None:
    """Any 5xx fails, except a 503 with Retry-After: a dependency (the database, a read model still catching up
    with the ``consistency`` asked for) is down or behind, which the client is told to retry."""
    retryable = response.status_code == 503 and "retry-after" in {name.lower() for name in response.headers}
    if response.status_code >= 500 and not retryable:
        raise AssertionError(f"Server error: {response.status_code}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("trust_leader", "auditor", "integration")
STREAMING = "text/event-stream"
"""An operation that answers an endless stream cannot be called and judged like the others
(``GET /v1/changes/stream`` has its own tests)."""


@dataclass
class Finding:
    operation: str
    mode: str
    request: str
    status: int
    answer: str
    failure: str

    def __str__(self) -> str:
        return (f"{self.operation} ({self.mode}): {self.failure}\n  request: {self.request}\n"
                f"  answer: {self.status} {self.answer[:500]}")


@pytest.fixture(scope="module")
def system(settings, test_output) -> Iterator[RunningSystem]:
    """The whole system, with a short consistency wait: a generated ``consistency=at_least:N`` beyond the head
    is answered 503 after the wait, and five seconds per such example would dominate the run."""
    with running_system(settings, test_output / "e2e-logs", FATHOM_CONSISTENCY_TIMEOUT="0.2") as running:
        yield running


@pytest.fixture(scope="module")
def headers(system: RunningSystem, owner_engine) -> dict[str, str]:
    """A token for a fresh trust holding a small roster, so some generated ids may name real things."""
    trust = f"props-{uuid.uuid4().hex[:10]}"
    create_trust(owner_engine, trust, "Property Academy Trust")
    token = token_for(system.settings, trust, ROLES, sub="property-tester")

    def post(path: str, body: dict) -> dict:
        response = system.post(token, path, body)
        assert response.status_code == 201, response.text
        return response.json()

    SmallTrust().create(post)
    return bearer(token)


def exercise(base_url: str, headers: dict[str, str]) -> list[Finding]:
    """Every operation of the document at ``base_url``/openapi.json, in both modes; the first finding of each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30)
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"no operations in {base_url}/openapi.json"
    findings: list[Finding] = []
    for operation in operations:
        if not _streams(operation.definition.raw):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                started = time.perf_counter()
                findings += exercise_operation(operation, mode, base_url, session, headers)
                print(f"{operation.label} {mode.value}: {time.perf_counter() - started:.1f} s")
    return findings


def exercise_operation(operation, mode: GenerationMode, base_url: str, session: requests.Session,
                       headers: dict[str, str]) -> list[Finding]:
    """Up to :data:`EXAMPLES` requests; stops at the first finding (shrinking would cost minutes)."""
    found: list[Finding] = []

    mutated = [0]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        cases = [(mode.value, case)]
        if mode is GenerationMode.POSITIVE and mutated[0] < MUTATED_EXAMPLES:
            mutated[0] += 1
            cases += [(name, mutant(case, edge)) for name, edge in EDGES.items()]
        for label, sent in cases:
            if found:
                return
            response = sent.call(base_url=base_url, session=session, headers=headers, timeout=30)
            if _refused_by_http_server(response):
                continue
            try:
                sent.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as failure:  # reported with every other operation's
                request = sent.as_curl_command({"Authorization": "Bearer <token>"}, base_url=base_url)
                found.append(Finding(operation.label, label, request, response.status_code, response.text,
                                     _first_line(failure)))

    call()
    return found


MUTATED_EXAMPLES = 2
"""Valid examples per operation also sent with every value pushed to an edge random generation rarely reaches
in a few examples: a NUL in every string, every integer beyond 64 bits."""


def _with_nul(value: Any) -> Any:
    return value + "\x00" if isinstance(value, str) else value


def _beyond_64_bits(value: Any) -> Any:
    return 2**64 if isinstance(value, int) and not isinstance(value, bool) else value


EDGES: dict[str, Callable[[Any], Any]] = {"positive + NUL in every string": _with_nul,
                                          "positive + every integer beyond 64 bits": _beyond_64_bits}


def mutant(case, edge: Callable[[Any], Any]):
    """A copy of ``case`` with ``edge`` applied to every value of its path, query and JSON body."""
    derived = case.derive()
    derived.path_parameters = {name: _map(value, edge) for name, value in case.path_parameters.items()}
    derived.query = {name: _map(value, edge) for name, value in case.query.items()}
    if isinstance(case.body, dict | list) and "json" in (case.media_type or ""):
        derived.body = _map(case.body, edge)
    return derived


def _map(value: Any, edge: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _map(item, edge) for key, item in value.items()}
    if isinstance(value, list):
        return [_map(item, edge) for item in value]
    return edge(value)


def _refused_by_http_server(response: requests.Response) -> bool:
    """gunicorn's own 414 for a request line over its 4094-byte limit: answered (as HTML) before any Fathom code
    runs, so it is outside what the documents describe. A 4xx all the same, never a 5xx."""
    return response.status_code == 414 and response.headers.get("Content-Type", "").startswith("text/html")


def _streams(definition: dict) -> bool:
    ok = definition.get("responses", {}).get("200", {})
    return STREAMING in ok.get("content", {})


def _first_line(failure: Exception) -> str:
    text = str(failure).strip()
    return " | ".join(line.strip() for line in text.splitlines()[:6] if line.strip())


@pytest.mark.parametrize("service", ["api", "reports"])
def test_every_generated_request_gets_a_documented_answer_and_never_a_5xx(system: RunningSystem, headers, service):
    base_url = system.api if service == "api" else system.reports
    findings = exercise(base_url, headers)
    assert not findings, f"{len(findings)} operation(s) of the {service} document misbehave:\n" + "\n".join(
        str(f) for f in findings)
