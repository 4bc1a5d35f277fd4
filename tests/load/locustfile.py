"""The load scenario: the people of many trusts using Fathom at once (run by ``python -m tests.load``).

- **Teachers** (one per class): save a grid of 30 pupils × 5 objectives, mark those objectives taught, then open
  their Class Analysis with the freshness wait (``consistency=at_least:N``, N the save's ``last_sequence``), as the
  web app does after a save. names.SAVE_THEN_SEE is the time from sending the save to the Class Analysis
  that includes it (its ``sequence`` ≥ N), the marking in between included.
- **School and trust leaders**: school and trust analyses, and CSV exports.
- **Auditors**: one ``as_of`` read of a class as it was after seeding, then pages of the audit log and judgement
  histories.
- **Integrations** (a fixed number, one per integration trust): catch up on the change feed by polling, then
  follow the server-sent events; the same trusts' webhooks go to a local receiver (:mod:`tests.load.feeds`).

Every request type is named so that its percentiles are comparable run to run. The run is bounded in time by
locust's ``--run-time`` and in requests by ``FATHOM_LOAD_MAX_REQUESTS`` (HTTP requests, not notices).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
import requests
from locust import HttpUser, between, events, task
from locust.env import Environment

from fathom_shared.assessment_calendar import school_today
from tests.change_feed_support import sse_events
from tests.http_support import resend_on_dropped_connection
from tests.load import names
from tests.load.feeds import StreamCheck, WebhookReceiver, report_notice
from tests.load.plan import GRID_OBJECTIVES, Plan, TrustPlan, grid

PLAN = Plan.load(Path(os.environ["FATHOM_LOAD_PLAN"]))
MAX_REQUESTS = int(os.environ.get("FATHOM_LOAD_MAX_REQUESTS", "0") or 0)
FOLLOW_S = float(os.environ.get("FATHOM_LOAD_FOLLOW_S", "30"))
"""How long an integration keeps one stream open before it reconnects with ``Last-Event-ID``."""
PACE = float(os.environ.get("FATHOM_LOAD_PACE", "1") or 1)
"""Every think time × this: below 1 a short run (the suite's) does every person's round more often."""
HTTP_TYPES = {"GET", "POST", "DELETE"}
SAVE_THEN_SEE = names.SAVE_THEN_SEE



def across_trusts(items: list[list[Any]]) -> Iterator[Any]:
    """Each trust's first item, then each one's second…, round and round: the people of a run are spread over
    every trust (a run of 30 teachers is a teacher in each of 30 trusts, not every teacher of eight)."""
    return itertools.cycle([item for layer in itertools.zip_longest(*items) for item in layer if item is not None])


_classes = across_trusts([[(t, c) for c in t.classes] for t in PLAN.trusts])
_schools = across_trusts([[(t, s) for s in t.schools] for t in PLAN.trusts])
_trusts = itertools.cycle(PLAN.trusts)
_integration_trusts = itertools.cycle(PLAN.integration_trusts())
_http_requests = 0
_receiver: WebhookReceiver | None = None
_webhooks: list[tuple[TrustPlan, str]] = []


def paced(low: float, high: float):
    return between(low * PACE, high * PACE)


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@events.request.add_listener
def _bound_requests(request_type: str, environment: Environment | None = None, **_: Any) -> None:
    """Stop the run once it has sent ``MAX_REQUESTS`` HTTP requests (the bound beside ``--run-time``)."""
    global _http_requests
    if request_type in HTTP_TYPES:
        _http_requests += 1
        if MAX_REQUESTS and _http_requests == MAX_REQUESTS:
            runner = _env.runner if _env is not None else None
            if runner is not None:
                gevent.spawn(runner.quit)


_env: Environment | None = None


@events.init.add_listener
def _remember(environment: Environment, **_: Any) -> None:
    global _env
    _env = environment
    # gevent's loop keeps the time it last looked at the clock; the hub was made when locust was imported, and
    # loading this file (the services' modules) can take seconds on a busy machine: without this, ``--run-time``
    # is counted from that stale time and the run ends as it starts.
    gevent.get_hub().loop.update_now()


@events.test_start.add_listener
def _register_webhooks(environment: Environment, **_: Any) -> None:
    """One subscription per integration trust, to a receiver in this process; removed again at the end."""
    global _receiver
    fire = environment.events.request.fire
    _receiver = WebhookReceiver(fire)
    for trust in PLAN.integration_trusts():
        started = time.perf_counter()
        try:
            answer = requests.post(f"{PLAN.reports}/v1/webhooks", headers=auth(trust.tokens["integration"]),
                                   json={"url": _receiver.url(trust.trust_id), "models": PLAN.webhook_models},
                                   timeout=30)
            answer.raise_for_status()
            _receiver.secrets[trust.trust_id] = answer.json()["secret"]
            _webhooks.append((trust, answer.json()["id"]))
            problem = None
        except requests.RequestException as exc:
            problem = exc
        fire(request_type="POST", name=names.WEBHOOK_REGISTER, response_length=0, context={},
             response_time=(time.perf_counter() - started) * 1000, exception=problem)


@events.test_stop.add_listener
def _remove_webhooks(**_: Any) -> None:
    for trust, webhook_id in _webhooks:
        requests.delete(f"{PLAN.reports}/v1/webhooks/{webhook_id}", headers=auth(trust.tokens["integration"]),
                        timeout=30)
    _webhooks.clear()
    if _receiver is not None:
        _receiver.close()


class Person(HttpUser):
    """Someone of the scenario: their client resends a request the server's keep-alive close dropped."""

    abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        resend_on_dropped_connection(self.client)


class Teacher(Person):
    """One class's teacher: a sitting of assessment every few seconds (compressed from a school day)."""

    weight = 6
    wait_time = paced(3, 9)

    def on_start(self) -> None:
        self.trust, self.class_id = next(_classes)
        self.headers = auth(self.trust.tokens[f"teacher:{self.class_id}"])
        self.rng = random.Random()
        self.round = self.rng.randrange(len(self.trust.objectives))

    def _objectives(self) -> list[str]:
        objectives = self.trust.objectives
        self.round += GRID_OBJECTIVES
        return [objectives[(self.round + n) % len(objectives)] for n in range(GRID_OBJECTIVES)]

    @task
    def assess_then_look(self) -> None:
        api, today = PLAN.api, school_today().isoformat()
        objectives = self._objectives()
        started = time.perf_counter()
        with self.client.post(f"{api}/v1/judgements", name=names.SAVE, catch_response=True,
                              json=grid(self.trust.pupils[self.class_id], objectives, self.rng, today),
                              headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex}) as saved:
            if saved.status_code != 201:
                saved.failure(f"{saved.status_code}: {saved.text[:200]}")
                return self._flow(started, "the save failed")
            sequence = saved.json()["last_sequence"]
        self.client.post(f"{api}/v1/objectives-taught", name=names.TAUGHT,
                         headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
                         json={"class_id": self.class_id, "objective_ids": objectives, "taught_on": today})
        with self.client.get(f"/v1/classes/{self.class_id}/analysis", headers=self.headers, catch_response=True,
                             params={"consistency": f"at_least:{sequence}", "heat_map": "compact"},
                             name=names.SEE) as seen:
            if seen.status_code != 200:
                seen.failure(f"{seen.status_code}: {seen.text[:200]}")
                return self._flow(started, "the Class Analysis failed")
            if seen.json()["sequence"] < sequence:
                seen.failure(f"sequence {seen.json()['sequence']} < {sequence}")
                return self._flow(started, "the Class Analysis did not include the save")
        self._flow(started, None)

    def _flow(self, started: float, problem: str | None) -> None:
        self.environment.events.request.fire(
            request_type="FLOW", name=names.SAVE_THEN_SEE, response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=AssertionError(problem) if problem else None, context={})


class Rotation(Person):
    """A person who does the same few things in turn (``ROUND``: method names), so a short run does each."""

    abstract = True
    ROUND: tuple[str, ...] = ()

    @task
    def next_thing(self) -> None:
        self.turn = getattr(self, "turn", -1) + 1
        getattr(self, self.ROUND[self.turn % len(self.ROUND)])()


class SchoolLeader(Rotation):
    weight = 2
    wait_time = paced(4, 12)
    ROUND = ("school_analysis", "export", "drill_to_a_class", "school_analysis", "drill_to_a_class")

    def on_start(self) -> None:
        self.trust, self.school = next(_schools)
        self.headers = auth(self.trust.tokens[f"school_leader:{self.school}"])

    def school_analysis(self) -> None:
        self.client.get(f"/v1/schools/{self.school}/analysis", params={"year_group": 4}, headers=self.headers,
                        name=names.SCHOOL)

    def drill_to_a_class(self) -> None:
        class_id = random.choice(self.trust.schools[self.school])
        self.client.get(f"/v1/classes/{class_id}/analysis", params={"heat_map": "compact"}, headers=self.headers,
                        name=names.LEADER_CLASS)

    def export(self) -> None:
        self.client.get(f"/v1/schools/{self.school}/analysis", params={"year_group": 4, "format": "csv"},
                        headers=self.headers, name=names.SCHOOL_CSV)


class TrustLeader(Rotation):
    weight = 1
    wait_time = paced(4, 12)
    ROUND = ("trust_analysis", "export", "school_analysis", "trust_analysis")

    def on_start(self) -> None:
        self.trust = next(_trusts)
        self.headers = auth(self.trust.tokens["trust_leader"])

    def trust_analysis(self) -> None:
        self.client.get("/v1/trust/analysis", params={"year_group": 4}, headers=self.headers,
                        name=names.TRUST)

    def school_analysis(self) -> None:
        school = random.choice(list(self.trust.schools))
        self.client.get(f"/v1/schools/{school}/analysis", params={"year_group": 4}, headers=self.headers,
                        name=names.SCHOOL)

    def export(self) -> None:
        self.client.get("/v1/trust/analysis", params={"year_group": 4, "format": "csv"}, headers=self.headers,
                        name=names.TRUST_CSV)


class Auditor(Rotation):
    """Opens one class as it was after seeding (``as_of``), then browses the log and judgement histories."""

    weight = 1
    wait_time = paced(3, 10)
    ROUND = ("browse_log", "judgement_history", "browse_log", "browse_log")

    def on_start(self) -> None:
        self.trust = next(_trusts)
        self.headers = auth(self.trust.tokens["auditor"])
        self.after = 0
        class_id = random.choice(self.trust.classes)
        self.client.get(f"/v1/classes/{class_id}/analysis", headers=self.headers, name=names.AS_OF,
                        params={"as_of": self.trust.seeded_sequence, "heat_map": "compact"})

    def browse_log(self) -> None:
        with self.client.get("/v1/audit/events", params={"after": self.after, "limit": 50}, headers=self.headers,
                             name=names.AUDIT_PAGE, catch_response=True) as page:
            if page.status_code == 200:
                self.after = page.json().get("next_after") or 0  # at the end, start again

    def judgement_history(self) -> None:
        class_id = random.choice(self.trust.classes)
        pupil = random.choice(self.trust.pupils[class_id])
        objective = random.choice(self.trust.objectives[:GRID_OBJECTIVES])
        self.client.get(f"/v1/audit/pupils/{pupil}/objectives/{objective}/history", headers=self.headers,
                        name=names.HISTORY)


class Integration(Person):
    """A trust's BI integration: catches up by polling, then follows the stream, reconnecting as clients do."""

    fixed_count = PLAN.integrations
    wait_time = paced(0.5, 1)

    def on_start(self) -> None:
        self.trust = next(_integration_trusts)
        self.check = StreamCheck(self.trust.trust_id)
        self.headers = auth(self.trust.tokens["integration"])
        more = True
        while more:
            with self.client.get("/v1/changes", params={"after": self.check.last_id, "limit": 500},
                                 headers=self.headers, name=names.CATCH_UP, catch_response=True) as page:
                if page.status_code != 200:
                    return
                body = page.json()
                self.check.last_id, more = body["next_after"], body["more"]

    @task
    def follow(self) -> None:
        deadline = time.monotonic() + FOLLOW_S
        response = self.client.get(f"{PLAN.streams}/v1/changes/stream", stream=True, timeout=(5, 20),
                                   headers={**self.headers, "Last-Event-ID": str(self.check.last_id)},
                                   name=names.STREAM)
        try:
            if response.status_code != 200:
                return
            for event in sse_events(response.iter_content(chunk_size=None)):
                if "data" in event:
                    self._notice(json.loads(event["data"]), len(event["data"]))
                if time.monotonic() > deadline:
                    break
        except requests.RequestException as exc:
            self.environment.events.request.fire(request_type="SSE", name="change feed stream broke",
                                                 response_time=0, response_length=0, exception=exc, context={})
        finally:
            response.close()

    def _notice(self, notice: dict[str, Any], size: int) -> None:
        problem = self.check.problem(notice)
        self.check.last_id = max(self.check.last_id, notice["notice_id"])
        report_notice(self.environment.events.request.fire, "SSE", names.SSE_NOTICE,
                      notice, size, problem)


for _name, _count in json.loads(os.environ.get("FATHOM_LOAD_COUNTS", "{}") or "{}").items():
    # A short run (the suite's) sets how many of each person there are, so each kind is surely there.
    globals()[_name].fixed_count = int(_count)
