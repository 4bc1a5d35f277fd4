"""The command API over a real PostgreSQL: what gets appended, and every bad input's 4xx."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from fathom_api.validation import school_today
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import read_events
from tests.support import SmallTrust, actor_sub, bearer, token_for


@pytest.fixture
def small(client, leader):
    def post(path, body):
        response = client.post(path, json=body, headers=leader)
        assert response.status_code == 201, response.json
        return response.json

    return SmallTrust().create(post)


def events_of(app_engine, trust):
    with TenantUnitOfWork(app_engine, trust) as uow:
        return read_events(uow.connection)


def judgement(pupil="p1", objective="m4-1", value=3, on=None, **extra):
    return {"pupil_id": pupil, "objective_id": objective, "value": value,
            "assessed_on": (on or school_today()).isoformat(), **extra}


def test_a_batch_appends_one_event_per_judgement_and_answers_sequences(client, leader, small, app_engine, trust):
    batch = [judgement(p, o, 1 + (i % 4)) for i, (p, o) in
             enumerate((p, o) for p in small.pupils_a for o in small.objectives)]
    response = client.post("/v1/judgements", json={"judgements": batch}, headers=leader)
    assert response.status_code == 201, response.json
    first = small.last_sequence + 1
    assert response.json["sequences"] == list(range(first, first + len(batch)))
    assert response.json["last_sequence"] == first + len(batch) - 1
    stored = [e for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded"]
    assert [(e.data["pupil_id"], e.data["objective_id"], e.data["value"]) for e in stored] == [
        (j["pupil_id"], j["objective_id"], j["value"]) for j in batch]
    assert stored[0].data["class_id"] == small.class_a
    assert "sub" not in stored[0].metadata and actor_sub(app_engine, trust, stored[0]) == "head"


def test_no_personal_data_enters_the_event_log(client, small, app_engine, trust):
    log = json.dumps([[e.data, e.metadata] for e in events_of(app_engine, trust)])
    for needle in ("Given0", "Family0", "A00000000000A"):
        assert needle not in log
    with TenantUnitOfWork(app_engine, trust) as uow:
        names = uow.connection.execute(text("SELECT count(*) FROM pupil_personal WHERE given_name IS NOT NULL"))
        assert names.scalar() == 8


def test_teacher_writes_only_for_own_class(client, settings, small, trust, app_engine):
    teacher = bearer(token_for(settings, trust, ["teacher"], classes=[small.class_a]))
    own = client.post("/v1/judgements", json={"judgements": [judgement("p1")]}, headers=teacher)
    assert own.status_code == 201
    other = client.post("/v1/judgements", json={"judgements": [judgement("p1"), judgement("p7")]},
                        headers=teacher)
    assert other.status_code == 403
    assert set(other.json["errors"]) == {"judgements.1.pupil_id"}
    auditor = bearer(token_for(settings, trust, ["auditor"]))
    assert client.post("/v1/judgements", json={"judgements": [judgement()]}, headers=auditor).status_code == 403
    assert len([e for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded"]) == 1


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"pupil_id": "nobody"}, "judgements.1.pupil_id"),
        ({"objective_id": "nothing"}, "judgements.1.objective_id"),
        ({"value": 9}, "judgements.1.value"),
        ({"value": "3"}, "judgements.1.value"),
        ({"assessed_on": (school_today() + timedelta(days=1)).isoformat()}, "judgements.1.assessed_on"),
        ({"assessed_on": "22/11/2026"}, "judgements.1.assessed_on"),
        ({"source": "parent"}, "judgements.1.source"),
        ({"colour": "red"}, "judgements.1.colour"),
    ],
)
def test_one_bad_judgement_rejects_the_whole_batch(client, leader, small, app_engine, trust, item, field):
    before = len(events_of(app_engine, trust))
    batch = [judgement("p1"), {**judgement("p2"), **item}, judgement("p3")]
    response = client.post("/v1/judgements", json={"judgements": batch}, headers=leader)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"]
    assert len(events_of(app_engine, trust)) == before


def test_malformed_json_wrong_shape_and_oversized_batches(client, leader, small, app_engine, trust, settings):
    before = len(events_of(app_engine, trust))
    broken = client.post("/v1/judgements", data="{not json", headers={**leader, "Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.headers["Content-Type"] == "application/problem+json"
    assert client.post("/v1/judgements", json={"judgements": "all"}, headers=leader).status_code == 422
    assert client.post("/v1/judgements", json={"judgements": []}, headers=leader).json["errors"] == {
        "judgements": ["Shorter than minimum length 1."]}
    oversized = client.post("/v1/judgements", headers=leader,
                            json={"judgements": [judgement()] * (settings.max_batch + 1)})
    assert oversized.status_code == 422 and "judgements" in oversized.json["errors"]
    assert len(events_of(app_engine, trust)) == before


def test_a_pupil_of_another_trust_is_unknown(client, settings, small, make_trust, app_engine):
    other = make_trust("other")
    other_leader = bearer(token_for(settings, other, ["trust_leader"]))
    SmallTrust(school="o-sch", class_a="o-A", class_b="o-B", pupils_a=["op1"], pupils_b=["op2"],
               scale="o-s", objectives=["o-o"]).create(
        lambda path, body: client.post(path, json=body, headers=other_leader).json)
    response = client.post("/v1/judgements", headers=other_leader,
                           json={"judgements": [judgement("p1", "o-o"), judgement("op1", "m4-1")]})
    assert response.status_code == 422
    assert response.json["errors"] == {"judgements.0.pupil_id": ["Unknown pupil."],
                                       "judgements.1.objective_id": ["Unknown objective."]}


def test_only_school_and_trust_leaders_record_moderator_judgements(client, settings, small, trust, app_engine):
    """A teacher could record ``source: moderator`` for their own class and so set the trust's moderation
    agreement figures; now the field is refused (403 naming ``judgements.N.source``) and nothing is recorded."""
    teacher = bearer(token_for(settings, trust, ["teacher"], classes=[small.class_a]))
    refused = client.post("/v1/judgements", headers=teacher, json={"judgements": [
        judgement("p1", source="teacher"), judgement("p2", source="self"), judgement("p3", source="moderator")]})
    assert refused.status_code == 403, refused.json
    assert refused.json["errors"] == {"judgements.2.source": [
        "Moderator judgements are recorded, corrected and withdrawn only by school or trust leaders."]}
    assert client.post("/v1/judgements", headers=teacher, json={"judgements": [
        judgement("p1", source="teacher"), judgement("p2", source="self")]}).status_code == 201
    other_school_leader = bearer(token_for(settings, trust, ["school_leader"], schools=["elsewhere"]))
    assert client.post("/v1/judgements", headers=other_school_leader, json={"judgements": [
        judgement("p3", source="moderator")]}).status_code == 403
    for moderator in (bearer(token_for(settings, trust, ["school_leader"], schools=[small.school])),
                      bearer(token_for(settings, trust, ["teacher", "trust_leader"]))):
        assert client.post("/v1/judgements", headers=moderator, json={"judgements": [
            judgement("p3", source="moderator")]}).status_code == 201
    sources = sorted(e.data["source"] for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded")
    assert sources == ["moderator", "moderator", "self", "teacher"]


def test_idempotency_key_replays_and_rejects_a_different_body(client, leader, small, app_engine, trust):
    headers = {**leader, "Idempotency-Key": "batch-1"}
    body = {"judgements": [judgement("p1"), judgement("p2")]}
    first = client.post("/v1/judgements", json=body, headers=headers)
    again = client.post("/v1/judgements", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    different = client.post("/v1/judgements", json={"judgements": [judgement("p3")]}, headers=headers)
    assert different.status_code == 409 and "Idempotency-Key" in different.json["errors"]
    assert len([e for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded"]) == 2


def test_idempotency_keys_are_each_callers_own(client, settings, small, app_engine, trust):
    """Two people in one trust who send the same key and body each get their own append.

    Keys used to be per trust: the second person got the first person's answer (its event ids)
    and nothing was recorded for them.
    """
    body = {"judgements": [judgement("p1")]}
    answers = {}
    for sub in ("ms-a", "mr-b"):
        headers = bearer(token_for(settings, trust, ["teacher"], sub=sub, classes=[small.class_a]),
                         **{"Idempotency-Key": "lesson-3"})
        answers[sub] = client.post("/v1/judgements", json=body, headers=headers)
        retry = client.post("/v1/judgements", json=body, headers=headers)
        assert answers[sub].status_code == retry.status_code == 201, answers[sub].json
        assert retry.json == answers[sub].json
    assert answers["ms-a"].json["event_ids"] != answers["mr-b"].json["event_ids"]
    recorded = [e for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded"]
    assert {str(e.event_id): actor_sub(app_engine, trust, e) for e in recorded} == {
        answers["ms-a"].json["event_ids"][0]: "ms-a", answers["mr-b"].json["event_ids"][0]: "mr-b"}


def test_concurrent_retries_with_one_key_append_once(client, leader, small, app_engine, trust):
    headers = {**leader, "Idempotency-Key": "race"}
    body = {"judgements": [judgement("p4")]}
    answers = []
    barrier = threading.Barrier(4)

    def send():
        barrier.wait(10)
        answers.append(client.post("/v1/judgements", json=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [201] * 4
    assert len({json.dumps(a.json, sort_keys=True) for a in answers}) == 1
    assert len([e for e in events_of(app_engine, trust) if e.event_type == "JudgementRecorded"]) == 1


def test_objectives_taught_with_expected_version_conflicts_when_stale(client, leader, small):
    body = {"class_id": small.class_a, "objective_ids": ["m4-1"], "taught_on": school_today().isoformat(),
            "expected_version": 1}
    first = client.post("/v1/objectives-taught", json=body, headers=leader)
    assert first.status_code == 201 and first.json["stream_version"] == 2
    stale = client.post("/v1/objectives-taught", json=body, headers=leader)
    assert stale.status_code == 409
    bad = client.post("/v1/objectives-taught", headers=leader, json={
        "class_id": "nope", "objective_ids": ["m4-1", "x"], "taught_on": "2026-01-01"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"class_id", "objective_ids.1"}


def test_intervention_validates_pupils_and_objectives(client, leader, small, app_engine, trust):
    good = client.post("/v1/interventions", headers=leader, json={
        "id": "int-1", "name": "Place value boost", "lead": "Ms Reid", "pupil_ids": ["p1", "p2"],
        "objective_ids": ["m4-1"], "start_date": school_today().isoformat()})
    assert good.status_code == 201 and good.json["id"] == "int-1"
    again = client.post("/v1/interventions", headers=leader, json={
        "id": "int-1", "name": "Dup", "lead": "X", "pupil_ids": ["p1"], "objective_ids": ["m4-1"],
        "start_date": school_today().isoformat()})
    assert again.status_code == 409
    bad = client.post("/v1/interventions", headers=leader, json={
        "name": "X", "lead": "Y", "pupil_ids": ["p1", "ghost"], "objective_ids": ["ghost"],
        "start_date": "2026-01-01"})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"pupil_ids.1", "objective_ids.0"}


def test_roster_validation(client, leader, small):
    dup = client.post("/v1/schools", json={"id": small.school, "name": "Again"}, headers=leader)
    assert dup.status_code == 409
    wrong = client.post("/v1/classes", headers=leader, json={"school_id": "ghost", "name": "X", "year_group": "4",
                                                             "academic_year": "2026"})
    assert wrong.status_code == 422 and set(wrong.json["errors"]) == {"year_group", "academic_year"}
    unknown = client.post("/v1/classes", headers=leader, json={"school_id": "ghost", "name": "X",
                                                               "year_group": 4, "academic_year": "2026-27"})
    assert unknown.status_code == 422 and set(unknown.json["errors"]) == {"school_id"}
    scale = client.post("/v1/scales", headers=leader, json={"name": "Bad", "bands": [
        {"value": 2, "label": "b", "secure": False}, {"value": 1, "label": "a", "secure": False}]})
    assert scale.status_code == 422 and "bands" in scale.json["errors"]


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-jwt"])
def test_missing_or_malformed_tokens_are_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.post("/v1/schools", json={"name": "X"}, headers=headers)
    assert response.status_code == 401 and response.headers["Content-Type"] == "application/problem+json"


def test_token_for_an_unknown_trust_is_401(client, settings):
    response = client.post("/v1/schools", json={"name": "X"},
                           headers=bearer(token_for(settings, "no-such-trust", ["trust_leader"])))
    assert response.status_code == 401


def test_concurrent_http_writers_with_the_same_expected_version_one_wins(client, leader, small):
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def send(objective):
        body = {"class_id": small.class_b, "objective_ids": [objective], "taught_on": school_today().isoformat(),
                "expected_version": 1}
        barrier.wait(10)
        codes.append(client.post("/v1/objectives-taught", json=body, headers=leader).status_code)

    threads = [threading.Thread(target=send, args=(o,)) for o in ("m4-1", "m4-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [201, 409]
