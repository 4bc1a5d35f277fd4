"""``GET /v1/pupils/{id}``: the pupil profile against real PostgreSQL, with exact values.

A pupil who moved class, whose judgements were corrected and withdrawn, who has a
moderator's judgement, standardised scores that agree with teacher judgement in one subject
and disagree in another, and an intervention; a leaver and an erased pupil beside them.
"""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import RAISE

from fathom_reports.schemas.profile import PupilProfileSchema
from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth  # the same fixtures as the Class Analysis tests

RAG = [{"value": 1, "label": "Red", "secure": False}, {"value": 2, "label": "Amber", "secure": False},
       {"value": 3, "label": "Green", "secure": True}]


@pytest.fixture
def pupils(app_engine, trust) -> None:
    (ReadModelSeed(trust)
     .school("north").school("south")
     .klass("4a", "north").klass("4b", "north").klass("5a", "south", year_group=5)
     .pupil("p1", "north", "4b", name=("Ada", "Lovelace"), pupil_premium=True)
     .pupil("p2", "north", "4a", name=("Lee", "Leaver"), left_on=date(2026, 10, 30))
     .pupil("p3", "north", "4b", name=("Cy", "Erased"), erased=True)
     .spell("p1", "4a", date(2026, 9, 1), date(2026, 10, 15)).spell("p1", "4b", date(2026, 10, 15))
     .scale("edsm").scale("rag", RAG)
     .objective("ma1", "MA4.1", "Maths", "edsm").objective("ma2", "MA4.2", "Maths", "edsm")
     .objective("en1", "EN4.1", "English", "rag").objective("ma9", "MA4.9", "Maths", "edsm")
     .taught("4a", "ma1", date(2026, 9, 10))    # while p1 was in 4A
     .taught("4a", "ma9", date(2026, 10, 20))   # after p1 left 4A: not theirs
     .taught("4b", "ma2", date(2026, 10, 20))   # in 4B
     .taught("4b", "ma9", date(2026, 9, 5))     # before p1 joined 4B: not theirs
     .recorded("p1", "ma1", 2, date(2026, 9, 20))
     .recorded("p1", "ma1", 3, date(2026, 10, 1), status="corrected", original=1, reason="typed the wrong band",
               amended_by="t-rae")
     .recorded("p1", "ma1", 4, date(2026, 10, 25), status="withdrawn", reason="wrong pupil", amended_by="hod")
     .recorded("p1", "ma1", 3, date(2026, 10, 26), source="moderator", recorded_by="mod-1")
     .recorded("p1", "en1", 1, date(2026, 10, 2))
     .recorded("p3", "ma1", 4, date(2026, 10, 2))
     # rm_pupil_objective as the projector keeps it: the withdrawal leaves the corrected 3 current.
     .judgement("p1", "ma1", 3, on=date(2026, 10, 1)).judgement("p1", "ma1", 3, on=date(2026, 10, 26),
                                                                  source="moderator")
     .judgement("p1", "en1", 1, on=date(2026, 10, 2)).judgement("p3", "ma1", 4, on=date(2026, 10, 2))
     .score("p1", "NFER Maths", "Maths", 112, date(2026, 9, 30))
     .score("p1", "NFER Maths", "Maths", 120, date(2026, 12, 1))
     .score("p1", "NFER Reading", "English", 118, date(2026, 12, 1))
     .score("p1", "NFER Science", "Science", 100, date(2026, 12, 1))
     .intervention("times-tables", ["p1", "p3"], ["ma1"], start=date(2026, 11, 1), end=date(2026, 12, 10),
                   outcome="most secure")
     .intervention("phonics", ["p3"], ["en1"])
     .write(app_engine, last_applied=77))


def profile(client, pupil_id: str, headers):
    return client.get(f"/v1/pupils/{pupil_id}", headers=headers)


def test_profile_exact(client, auth, pupils):
    response = profile(client, "p1", auth("trust_leader"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    PupilProfileSchema().load(body, unknown=RAISE)
    assert body["sequence"] == 77
    pupil = body["pupil"]
    assert {k: pupil[k] for k in ("pupil_id", "name", "erased", "school_id", "year_group", "class_id", "left_on")} \
        == {"pupil_id": "p1", "name": "Ada Lovelace", "erased": False, "school_id": "north", "year_group": 4,
            "class_id": "4b", "left_on": None}
    assert pupil["class_history"] == [
        {"class_id": "4a", "name": "4A", "year_group": 4, "from_date": "2026-09-01", "to_date": "2026-10-15"},
        {"class_id": "4b", "name": "4B", "year_group": 4, "from_date": "2026-10-15", "to_date": None}]

    objectives = {o["objective_id"]: o for o in body["objectives"]}
    assert [o["code"] for o in body["objectives"]] == ["EN4.1", "MA4.1", "MA4.2"]  # MA4.9: never theirs
    ma1 = objectives["ma1"]
    assert ma1["current"] == {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-10-01",
                              "source": "teacher"}
    assert ma1["other_sources"] == {"moderator": {"value": 3, "label": "Secure", "secure": True,
                                                  "assessed_on": "2026-10-26", "source": "moderator"}}
    assert [(h["value"], h["original_value"], h["status"], h["reason"], h["assessed_on"], h["source"],
             h["recorded_by"], h["amended_by"]) for h in ma1["history"]] == [
        (2, 2, "recorded", None, "2026-09-20", "teacher", "t-rae", None),
        (3, 1, "corrected", "typed the wrong band", "2026-10-01", "teacher", "t-rae", "t-rae"),
        (4, 4, "withdrawn", "wrong pupil", "2026-10-25", "teacher", "t-rae", "hod"),
        (3, 3, "recorded", None, "2026-10-26", "moderator", "mod-1", None)]
    assert ma1["taught_dates"] == ["2026-09-10"]
    assert (objectives["ma2"]["current"], objectives["ma2"]["history"], objectives["ma2"]["taught_dates"]) \
        == (None, [], ["2026-10-20"])

    subjects = {s["subject"]: s for s in body["subjects"]}
    assert [s["subject"] for s in body["subjects"]] == ["English", "Maths", "Science"]
    maths = subjects["Maths"]
    assert [(s["score"], s["taken_on"], s["band"]) for s in maths["scores"]] == [
        (120, "2026-12-01", 3), (112, "2026-09-30", 2)]
    assert maths["teacher"] == {"assessed": 1, "secure": 1, "percent_secure": 100.0, "band": 3,
                                "band_label": "above"}
    assert (maths["test_band"], maths["difference"], maths["moderation_prompt"]) == (3, 0, False)
    english = subjects["English"]  # Reading 118 (above) against 0% secure (below): 3 bands apart
    assert (english["test_band"], english["teacher"]["band"], english["difference"], english["margin"],
            english["moderation_prompt"]) == (3, 0, 3, 1, True)
    assert "not a verdict" in english["prompt"]
    science = subjects["Science"]
    assert (science["teacher"]["assessed"], science["teacher"]["band"], science["moderation_prompt"]) \
        == (0, None, False)

    assert body["interventions"] == [{
        "intervention_id": "times-tables", "name": "Times-Tables", "lead": "Ms Rae", "start_date": "2026-11-01",
        "end_date": "2026-12-10", "outcome": "most secure", "objective_ids": ["ma1"]}]


def test_margin_is_the_trusts(client, auth, app_engine, trust, pupils):
    ReadModelSeed(trust).settings(score_disagreement_margin=3).write(app_engine)
    english = next(s for s in profile(client, "p1", auth("trust_leader")).get_json()["subjects"]
                   if s["subject"] == "English")
    assert (english["difference"], english["margin"], english["moderation_prompt"]) == (3, 3, False)


def test_leaver_and_erased_pupil(client, auth, pupils):
    leaver = profile(client, "p2", auth("school_leader", schools=["north"])).get_json()["pupil"]
    assert (leaver["class_id"], leaver["left_on"], leaver["name"]) == (None, "2026-10-30", "Lee Leaver")
    erased = profile(client, "p3", auth("trust_leader")).get_json()
    assert (erased["pupil"]["name"], erased["pupil"]["erased"]) == (None, True)
    assert [i["intervention_id"] for i in erased["interventions"]] == ["phonics", "times-tables"]


@pytest.mark.parametrize(("pupil_id", "roles", "scope", "status"), [
    ("p1", ("teacher",), {"classes": ["4b"]}, 200),
    ("p1", ("teacher",), {"classes": ["4a"]}, 403),     # their class once, not now
    ("p2", ("teacher",), {"classes": ["4a"]}, 403),     # a leaver is nobody's pupil now
    ("p1", ("school_leader",), {"schools": ["north"]}, 200),
    ("p1", ("school_leader",), {"schools": ["south"]}, 403),
    ("p1", ("auditor",), {}, 200),
    ("p1", ("integration",), {}, 200),
    ("nobody", ("trust_leader",), {}, 404),
])
def test_who_may_read_a_profile(client, auth, pupils, pupil_id, roles, scope, status):
    response = profile(client, pupil_id, auth(*roles, **scope))
    assert response.status_code == status
    if status != 200:
        assert response.mimetype == "application/problem+json"


def test_another_trusts_pupil_is_404_and_no_token_401(client, auth, make_trust, pupils):
    other = make_trust("other")
    assert profile(client, "p1", auth("trust_leader", trust_id=other)).status_code == 404
    assert profile(client, "p1", {}).status_code == 401
    assert client.get("/v1/pupils/p1", headers=auth("trust_leader"),
                      query_string={"consistency": "soon"}).get_json()["errors"].keys() >= {"query.consistency"}
