"""Summative judgements against the real database: the scale, a class's grid, corrections and withdrawals,
projected into ``rm_summative_judgements`` (and equal to what a rebuild makes of the same log).

The command API appends ``SummativeScaleChosen`` / ``SummativeJudgement*``; the fold keeps one current
judgement per pupil, subject and assessment point, removes it on withdrawal and announces every change.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_projector.rebuild import rebuild_trust
from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from tests.change_feed_support import fold as fold_notices
from tests.change_feed_support import notices
from tests.rebuild_support import snapshot
from tests.support import actor_sub, bearer, events_of, personal_text, token_for

YEAR, POINT = "2026-27", "autumn-2"


def grid(*entries, point_id: str = POINT, subject: str = "Maths", year: str = YEAR) -> dict:
    return {"academic_year": year, "point_id": point_id, "subject": subject,
            "entries": [dict(zip(("pupil_id", "code", "note"), entry, strict=False)) for entry in entries]}


@pytest.fixture
def teacher(settings, trust, small):
    """The teacher of 4A (and of no other class)."""
    return bearer(token_for(settings, trust, ["teacher"], sub="t4a", classes=["4A"]))


def project(engine, trust: str) -> None:
    """Apply what the projector has not applied yet, as the running projector does."""
    catch_up_trust(engine, trust)


def current(engine, trust: str) -> dict[tuple[str, str, str], tuple]:
    """(pupil, subject, point) → (code, rank, class, judgement id) of the trust's current summative judgements."""
    with TenantUnitOfWork(engine, trust) as uow:
        rows = uow.connection.execute(text(
            "SELECT pupil_id, subject, point_id, code, rank, class_id, judgement_id::text AS judgement_id "
            "FROM rm_summative_judgements"))
        return {(r.pupil_id, r.subject, r.point_id): (r.code, r.rank, r.class_id, r.judgement_id) for r in rows}


def test_a_teacher_saves_their_classs_grid_as_one_event_per_pupil(client, teacher, app_engine, trust):
    answer = client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS", "Reasons well"), ("p2", "wts")),
                         headers=teacher)
    assert answer.status_code == 201, answer.json
    events = events_of(app_engine, trust, "SummativeJudgementRecorded")
    assert [(e.stream_type, e.stream_id) for e in events] == [("summative", "p1"), ("summative", "p2")]
    assert events[0].data == {"judgement_id": str(events[0].event_id), "pupil_id": "p1", "class_id": "4A",
                              "subject": "Maths", "academic_year": YEAR, "point_id": POINT, "code": "EXS",
                              "note_ref": events[0].data["note_ref"]}
    assert personal_text(app_engine, trust, events[0].data["note_ref"]) == "Reasons well"
    assert events[1].data["code"] == "WTS" and events[1].data["note_ref"] is None
    assert actor_sub(app_engine, trust, events[0]) == "t4a"
    assert answer.json["event_ids"] == [str(e.event_id) for e in events]


@pytest.mark.parametrize(("body", "field"), [
    (grid(("p1", "XYZ")), "entries.0.code"),
    (grid(("p7", "EXS")), "entries.0.pupil_id"),
    (grid(("nobody", "EXS")), "entries.0.pupil_id"),
    (grid(("p1", "EXS"), ("p1", "GDS")), "entries.1.pupil_id"),
    (grid(("p1", "EXS"), point_id="spring"), "point_id"),
    (grid(("p1", "EXS"), year="2026-28"), "academic_year"),
    (grid(("p1", "EXS"), year="9999-00"), "academic_year"),
    (grid(("p1", "EXS"), year="2027-28"), "academic_year"),  # a year after the class's (2026-27)
    (grid(), "entries"),
    ({**grid(("p1", "EXS")), "subject": ""}, "subject"),
    ({**grid(("p1", "EXS")), "extra": 1}, "extra"),
])
def test_what_a_grid_cannot_hold_is_refused_naming_the_field(client, teacher, app_engine, trust, body, field):
    answer = client.post("/v1/classes/4A/summative", json=body, headers=teacher)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json
    assert events_of(app_engine, trust, "SummativeJudgementRecorded") == []


def test_a_point_of_the_trusts_own_calendar_is_accepted_and_a_default_one_then_refused(client, leader, teacher):
    points = [{"point_id": "spring", "name": "Spring", "starts_on": "2027-01-05", "ends_on": "2027-03-26"}]
    assert client.put(f"/v1/calendar/{YEAR}", json={"points": points}, headers=leader).status_code == 200
    assert client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS"), point_id="spring"),
                       headers=teacher).status_code == 201
    refused = client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=teacher)
    assert refused.status_code == 422 and refused.json["errors"] == {
        "point_id": ["Not an assessment point of 2026-27 (points: spring)."]}


def test_teachers_only_for_their_classes_auditors_never(client, settings, trust, small, app_engine):
    other = bearer(token_for(settings, trust, ["teacher"], sub="t4b", classes=["4B"]))
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="aud"))
    assert client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=other).status_code == 403
    assert client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=auditor).status_code == 403
    leader = bearer(token_for(settings, trust, ["school_leader"], sub="sl", schools=["sch-1"]))
    assert client.post("/v1/classes/nope/summative", json=grid(("p1", "EXS")), headers=leader).status_code == 404
    assert client.post("/v1/classes/4B/summative", json=grid(("p7", "GDS")), headers=leader).status_code == 201
    assert [e.stream_id for e in events_of(app_engine, trust, "SummativeJudgementRecorded")] == ["p7"]


def test_another_trusts_class_is_not_found(client, settings, small, make_trust):
    other = make_trust()
    stranger = bearer(token_for(settings, other, ["trust_leader"], sub="x"))
    assert client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=stranger).status_code == 404


def test_the_read_model_keeps_the_current_judgement_and_a_rebuild_makes_the_same(client, teacher, leader,
                                                                                   app_engine, trust):
    first = client.post("/v1/classes/4A/summative", json=grid(("p1", "WTS"), ("p2", "EXS"), ("p3", "GDS")),
                        headers=teacher).json["event_ids"]
    project(app_engine, trust)
    replaced = client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=teacher).json["event_ids"]
    corrected = client.post(f"/v1/summative-judgements/{first[1]}/correction", headers=teacher,
                            json={"code": "GDS", "reason": "Moderated up"})
    assert corrected.status_code == 201, corrected.json
    withdrawn = client.post(f"/v1/summative-judgements/{first[2]}/withdrawal", headers=teacher,
                            json={"reason": "Wrong pupil"})
    assert withdrawn.status_code == 201, withdrawn.json
    client.post("/v1/classes/4A/summative", json=grid(("p4", "EXS"), subject="Reading"), headers=teacher)
    project(app_engine, trust)

    assert current(app_engine, trust) == {
        ("p1", "Maths", POINT): ("EXS", 2, "4A", replaced[0]), ("p2", "Maths", POINT): ("GDS", 3, "4A", first[1]),
        ("p4", "Reading", POINT): ("EXS", 2, "4A", current(app_engine, trust)[("p4", "Reading", POINT)][3])}
    projected = snapshot(app_engine, trust)
    assert projected["rm_summative_judgements"] and "rm_summative_judgements" in projected
    rebuild_trust(app_engine, trust)
    assert snapshot(app_engine, trust) == projected


def test_every_change_is_announced_and_the_notices_fold_to_the_read_model(client, teacher, app_engine, trust):
    ids = client.post("/v1/classes/4A/summative", json=grid(("p1", "WTS"), ("p2", "EXS")),
                      headers=teacher).json["event_ids"]
    project(app_engine, trust)
    client.post(f"/v1/summative-judgements/{ids[0]}/withdrawal", headers=teacher, json={"reason": "r"})
    project(app_engine, trust)
    summative = [n for n in notices(app_engine, trust) if n["model"] == "summative_judgements"]
    assert [(n["keys"]["pupil_id"], n["data"] is None) for n in summative] == [
        ("p1", False), ("p2", False), ("p1", True)]
    assert list(fold_notices(summative).values()) == [
        n["data"] for n in summative if n["keys"]["pupil_id"] == "p2"]


def test_amendments_refuse_a_replaced_or_withdrawn_judgement_and_another_teachers_pupil(client, teacher, settings,
                                                                                      trust, app_engine):
    [first] = client.post("/v1/classes/4A/summative", json=grid(("p1", "WTS")), headers=teacher).json["event_ids"]
    [later] = client.post("/v1/classes/4A/summative", json=grid(("p1", "EXS")), headers=teacher).json["event_ids"]
    assert client.post(f"/v1/summative-judgements/{first}/correction", headers=teacher,
                       json={"code": "GDS", "reason": "r"}).status_code == 409
    other = bearer(token_for(settings, trust, ["teacher"], sub="t4b", classes=["4B"]))
    assert client.post(f"/v1/summative-judgements/{later}/withdrawal", headers=other,
                       json={"reason": "r"}).status_code == 403
    bad_code = client.post(f"/v1/summative-judgements/{later}/correction", headers=teacher,
                           json={"code": "ZZ", "reason": "r"})
    assert bad_code.status_code == 422 and "code" in bad_code.json["errors"]
    assert client.post("/v1/summative-judgements/not-a-uuid/withdrawal", headers=teacher,
                       json={"reason": "r"}).status_code == 404
    assert client.post(f"/v1/summative-judgements/{later}/withdrawal", headers=teacher,
                       json={"reason": "r"}).status_code == 201
    assert client.post(f"/v1/summative-judgements/{later}/withdrawal", headers=teacher,
                       json={"reason": "r"}).status_code == 409
    [withdrawal] = events_of(app_engine, trust, "SummativeJudgementWithdrawn")
    assert withdrawal.data["judgement_id"] == later and withdrawal.stream_id == "p1"
    assert personal_text(app_engine, trust, withdrawal.data["reason_ref"]) == "r"


def test_a_trust_leader_chooses_a_preset_or_their_own_codes_keeping_those_in_use(client, leader, teacher,
                                                                                   app_engine, trust):
    assert client.post("/v1/summative-scale/presets/nope", headers=leader).status_code == 404
    assert client.post("/v1/summative-scale/presets/below-just-below-at-above", headers=teacher).status_code == 403
    assert client.post("/v1/summative-scale/presets/below-just-below-at-above", headers=leader).status_code == 200
    assert client.post("/v1/classes/4A/summative", json=grid(("p1", "JB")), headers=teacher).status_code == 201

    back = client.post("/v1/summative-scale/presets/wts-exs-gds", headers=leader)
    assert back.status_code == 409 and back.mimetype == "application/problem+json"
    assert back.json["errors"] == {"codes": ["JB is in use: keep its code and rank (its label and words may change)."]}

    own = {"name": "Ours", "expected_rank": 3, "codes": [
        {"code": "JB", "label": "Nearly", "words": "Nearly at the standard", "rank": 2},
        {"code": "AT", "label": "At", "words": "At the standard", "rank": 3},
        {"code": "PLUS", "label": "Beyond", "words": "Beyond the standard", "rank": 4}]}
    assert client.put("/v1/summative-scale", json=own, headers=leader).status_code == 200
    reranked = {**own, "codes": [{**own["codes"][0], "rank": 1}, *own["codes"][1:]]}
    assert client.put("/v1/summative-scale", json=reranked, headers=leader).status_code == 409
    bad = client.put("/v1/summative-scale", json={**own, "expected_rank": 9}, headers=leader)
    assert bad.status_code == 422 and "expected_rank" in bad.json["errors"]
    chosen = events_of(app_engine, trust, "SummativeScaleChosen")
    assert [e.data["scale_id"] for e in chosen] == ["below-just-below-at-above", "own"]
    project(app_engine, trust)
    with TenantUnitOfWork(app_engine, trust) as uow:
        scale = uow.connection.execute(text("SELECT scale_id, expected_rank, codes FROM rm_summative_scale")).one()
    assert (scale.scale_id, scale.expected_rank, [c["code"] for c in scale.codes]) == ("own", 3, ["JB", "AT", "PLUS"])


def test_the_summative_presets_are_listed(client, leader):
    answer = client.get("/v1/summative-scale/presets", headers=leader)
    assert [p["preset"] for p in answer.json] == ["wts-exs-gds", "below-just-below-at-above"]
    assert answer.json[0]["codes"][1] == {"code": "EXS", "label": "Expected", "rank": 2,
                                          "words": "Working at the expected standard for the year"}
