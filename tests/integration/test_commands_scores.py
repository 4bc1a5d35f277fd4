"""Standardised scores: JSON batch and CSV import, all or nothing, errors by field or line."""

from __future__ import annotations

import pytest

from fathom_api.validation import school_today
from tests.support import bearer, events_of, token_for

TODAY = school_today().isoformat()


def score(pupil="p1", value=104, **extra):
    return {"pupil_id": pupil, "test": "NFER Maths", "subject": "maths", "score": value, "taken_on": TODAY, **extra}


def test_a_batch_appends_one_event_per_score(client, leader, small, app_engine, trust):
    response = client.post("/v1/standardised-scores", json={"scores": [score("p1"), score("p7", 88)]}, headers=leader)
    assert response.status_code == 201, response.json
    assert [(e.stream_id, e.data) for e in events_of(app_engine, trust, "StandardisedScoreRecorded")] == [
        ("p1", score("p1")), ("p7", score("p7", 88))]


@pytest.mark.parametrize(
    ("item", "field"),
    [({"pupil_id": "ghost"}, "scores.1.pupil_id"), ({"score": 39}, "scores.1.score"),
     ({"score": 161}, "scores.1.score"), ({"score": "100"}, "scores.1.score"),
     ({"taken_on": "2999-01-01"}, "scores.1.taken_on"), ({"test": ""}, "scores.1.test")],
)
def test_one_bad_score_rejects_the_batch(client, leader, small, app_engine, trust, item, field):
    response = client.post("/v1/standardised-scores", json={"scores": [score(), score(**item)]}, headers=leader)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert events_of(app_engine, trust, "StandardisedScoreRecorded") == []


def test_teacher_only_for_own_pupils(client, settings, small, app_engine, trust):
    teacher = bearer(token_for(settings, trust, ["teacher"], classes=["4A"]))
    refused = client.post("/v1/standardised-scores", json={"scores": [score("p1"), score("p7")]}, headers=teacher)
    assert refused.status_code == 403 and set(refused.json["errors"]) == {"scores.1.pupil_id"}
    assert events_of(app_engine, trust, "StandardisedScoreRecorded") == []


CSV = f"pupil_id,test,subject,score,taken_on\np1,KS2 reading,reading,98,{TODAY}\np2,KS2 reading,reading,112,{TODAY}\n"


def test_csv_import_dry_run_then_real(client, leader, small, app_engine, trust):
    dry = client.post("/v1/standardised-scores/import?dry_run=true", headers=leader, data=CSV, content_type="text/csv")
    assert dry.status_code == 200 and dry.json["counts"] == {"scores": {"created": 2}}
    assert events_of(app_engine, trust, "StandardisedScoreRecorded") == []
    real = client.post("/v1/standardised-scores/import", headers=leader, data=CSV, content_type="text/csv")
    assert real.status_code == 201, real.json
    assert [e.data["score"] for e in events_of(app_engine, trust, "StandardisedScoreRecorded")] == [98, 112]


def test_csv_import_errors_by_line(client, leader, small, app_engine, trust):
    body = CSV + f"ghost,KS2,reading,100,{TODAY}\np3,KS2,reading,200,{TODAY}\np4,KS2,reading,100,yesterday\n"
    response = client.post("/v1/standardised-scores/import", headers=leader, data=body, content_type="text/csv")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"rows.4.pupil_id", "rows.5.score", "rows.6.taken_on"}
    assert events_of(app_engine, trust, "StandardisedScoreRecorded") == []
    paths = client.get("/openapi.json").json["paths"]
    assert {"/v1/standardised-scores", "/v1/standardised-scores/import"} <= set(paths)
