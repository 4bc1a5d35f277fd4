"""One user must not stall every trust: abusive reads against the real services (gunicorn, 2 workers ×
4 threads, as ``fathom up`` runs them) while a normal user asks for a Class Analysis.

Each test starts the abuse, lets it reach the server (or finish), then times another teacher's Class
Analysis: it must be served within 5 s (before these limits it waited 10–30 s or timed out), and the
abuser must have been answered ``429`` or refused at once rather than holding request threads.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.running_system import RunningSystem, running_system
from tests.support import SmallTrust, bearer, token_for

SERVED_WITHIN_S = 5.0
HEAD_START_S = 1.0
"""How long the abuse gets to reach the server before the normal user asks (less if it is all answered)."""


@pytest.fixture(scope="module")
def system(settings, test_output) -> Iterator[RunningSystem]:
    # A long freshness timeout makes a held wait obvious; a low inline bound makes the small trust "large".
    with running_system(settings, test_output / "e2e-fair-use-logs", FATHOM_CONSISTENCY_TIMEOUT="20",
                        FATHOM_VERIFY_INLINE_MAX_EVENTS="10") as running:
        yield running


@pytest.fixture
def small(system, trust) -> SmallTrust:
    leader = token_for(system.settings, trust, ["trust_leader"], sub="head")

    created = SmallTrust().create(system.poster(leader))
    # The normal user's class is projected before any abuse starts: the timed read below never waits for it.
    warm = system.get(normal_user(system, trust), "/v1/classes/4B/analysis",
                      consistency=f"at_least:{created.last_sequence}")
    assert warm.status_code == 200, warm.text
    return created


def normal_user(system: RunningSystem, trust: str) -> str:
    return token_for(system.settings, trust, ["teacher"], sub="mr-b", classes=["4B"])


def abuse(times: int, request: Callable[[], requests.Response]) -> list[concurrent.futures.Future]:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=times)
    futures = [pool.submit(request) for _ in range(times)]
    concurrent.futures.wait(futures, timeout=HEAD_START_S)
    pool.shutdown(wait=False)
    return futures


def assert_normal_user_is_served(system: RunningSystem, trust: str) -> None:
    started = time.monotonic()
    response = requests.get(system.reports + "/v1/classes/4B/analysis", headers=bearer(normal_user(system, trust)),
                            timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert elapsed < SERVED_WITHIN_S, f"the normal user waited {elapsed:.1f} s"


def statuses(futures: list[concurrent.futures.Future]) -> list[int]:
    return sorted(f.result(timeout=30).status_code for f in futures)


def test_waits_for_a_sequence_never_written_are_refused_at_once(system, trust, small):
    teacher = bearer(token_for(system.settings, trust, ["teacher"], sub="ms-a", classes=["4A"]))

    def wait_forever() -> requests.Response:
        return requests.get(system.reports + "/v1/classes/4A/analysis", headers=teacher, timeout=30,
                            params={"consistency": "at_least:999999999"})

    started = time.monotonic()
    futures = abuse(16, wait_forever)
    assert_normal_user_is_served(system, trust)
    assert statuses(futures) == [422] * 16
    assert time.monotonic() - started < SERVED_WITHIN_S + HEAD_START_S
    assert "consistency" in str(futures[0].result().json()["errors"])


def test_many_change_feed_streams_of_one_integration_take_no_reports_threads(system, trust, small):
    integration = bearer(token_for(system.settings, trust, ["integration"], sub="bi-tool"))
    opened: list[requests.Response] = []

    def open_stream() -> requests.Response:
        response = requests.get(system.reports + "/v1/changes/stream", headers=integration, stream=True,
                                allow_redirects=False, timeout=(5, 5))
        if response.status_code == 307:  # the stream server: a client sends its token there itself
            response = requests.get(response.headers["Location"], headers=integration, stream=True, timeout=(5, 5))
        opened.append(response)
        return response

    futures = abuse(10, open_stream)
    try:
        assert_normal_user_is_served(system, trust)
        answered = statuses(futures)
        assert answered.count(200) <= 2 and answered.count(429) == 10 - answered.count(200)
        assert answered.count(200) >= 1
    finally:
        for response in opened:
            response.close()


def test_concurrent_verifications_become_one_background_job(system, trust, small):
    auditor = bearer(token_for(system.settings, trust, ["auditor"], sub="aud-1"))

    def verify() -> requests.Response:
        return requests.get(system.reports + "/v1/audit/verify", headers=auditor, timeout=30)

    # With the verifier stopped the job stays queued while every request arrives: a small trust's job is done
    # within milliseconds of being notified, and a request after it is done rightly starts a new one.
    verifier = system.processes["verifier"]
    verifier.stop()
    try:
        futures = abuse(4, verify)
        assert_normal_user_is_served(system, trust)
        answers = [f.result(timeout=30) for f in futures]
    finally:
        verifier.start()
    assert {a.status_code for a in answers} <= {202, 429} and 202 in {a.status_code for a in answers}
    jobs = {a.json()["job_id"] for a in answers if a.status_code == 202}
    assert len(jobs) == 1  # joined, not four verifications
    location = next(a.headers["Location"] for a in answers if a.status_code == 202)
    deadline = time.monotonic() + 60
    job = requests.get(location, headers=auditor, timeout=30).json()
    while job["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)  # polling a job's progress, as the web page does
        job = requests.get(location, headers=auditor, timeout=30).json()
    assert job["status"] == "done" and job["events_checked"] == job["events_total"] == small.last_sequence
    assert job["result"]["ok"] is True


def test_many_time_travel_reads_of_one_teacher_are_limited(system, trust, small):
    teacher = bearer(token_for(system.settings, trust, ["teacher"], sub="ms-a", classes=["4A"]))

    def travel() -> requests.Response:
        return requests.get(system.reports + "/v1/classes/4A/analysis", headers=teacher, timeout=30,
                            params={"as_of": str(small.last_sequence - 1)})

    futures = abuse(16, travel)
    assert_normal_user_is_served(system, trust)
    answered = statuses(futures)
    assert set(answered) <= {200, 429} and answered.count(429) >= 1
    refused = next(f.result() for f in futures if f.result().status_code == 429)
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert int(refused.headers["Retry-After"]) >= 1
