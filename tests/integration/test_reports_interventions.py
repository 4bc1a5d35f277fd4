"""``GET /v1/interventions/{id}``: intervention impact against real PostgreSQL, with exact counts.

Covers a correction (its new value is the evidence), a withdrawal (ignored), a moderator's
judgement (not teacher evidence), a judgement after the end date (ignored), one on the start
date (counts as after) and one on the end date (counts), an erased pupil, and the group splits.
"""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import RAISE

from fathom_reports.schemas.impact import ImpactSchema
from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth


@pytest.fixture
def boost(app_engine, trust) -> str:
    (ReadModelSeed(trust)
     .school("north").school("south").klass("4a", "north").klass("5a", "south", year_group=5)
     .pupil("p1", "north", "4a", name=("Ada", "Ash"), pupil_premium=True, gender="female")
     .pupil("p2", "north", "4a", name=("Ben", "Birch"), sen="support", eal=True, gender="male")
     .pupil("p3", "north", "4a", name=("Cy", "Cole"), erased=True, pupil_premium=True, sen="ehcp", gender="F")
     .pupil("p4", "south", "5a", year_group=5, name=("Dee", "Dunn"))
     .scale("edsm").objective("ma1", "MA4.1", "Maths", "edsm").objective("ma2", "MA4.2", "Maths", "edsm")
     .recorded("p1", "ma1", 1, date(2026, 10, 1)).recorded("p1", "ma1", 2, date(2026, 10, 20))
     .recorded("p1", "ma1", 3, date(2026, 11, 20)).recorded("p1", "ma1", 4, date(2026, 12, 20))  # after the end
     .recorded("p1", "ma2", 3, date(2026, 10, 10)).recorded("p1", "ma2", 2, date(2026, 12, 1))
     .recorded("p2", "ma1", 3, date(2026, 11, 1))                                                 # on the start day
     .recorded("p2", "ma2", 2, date(2026, 10, 1))
     .recorded("p2", "ma2", 4, date(2026, 11, 10), status="withdrawn", reason="wrong pupil", amended_by="hod")
     .recorded("p3", "ma1", 2, date(2026, 10, 5), status="corrected", original=1, reason="typo",
               amended_by="t-rae")
     .recorded("p3", "ma1", 2, date(2026, 11, 15))
     .recorded("p4", "ma1", 2, date(2026, 10, 31)).recorded("p4", "ma1", 4, date(2026, 12, 15))  # on the end day
     .recorded("p4", "ma2", 3, date(2026, 11, 5), source="moderator")
     .intervention("boost", ["p1", "p2", "p3", "p4"], ["ma1", "ma2"], start=date(2026, 11, 1),
                   end=date(2026, 12, 15), outcome="most now secure")
     .write(app_engine, last_applied=90))
    return "boost"


def impact(client, intervention_id: str, headers, **query):
    return client.get(f"/v1/interventions/{intervention_id}", headers=headers, query_string=query)


def test_impact_exact(client, auth, boost):
    response = impact(client, boost, auth("trust_leader"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    ImpactSchema().load(body, unknown=RAISE)
    assert body["intervention"] == {
        "intervention_id": "boost", "name": "Boost", "lead": "Ms Rae", "start_date": "2026-11-01",
        "end_date": "2026-12-15", "outcome": "most now secure", "ended": True, "evidence_until": "2026-12-15"}
    assert [(p["pupil_id"], p["name"]) for p in body["pupils"]] == [
        ("p1", "Ada Ash"), ("p2", "Ben Birch"), ("p4", "Dee Dunn"), ("p3", None)]

    def value(cell):
        return None if cell is None else (cell["value"], cell["assessed_on"])

    assert [(r["pupil_id"], r["objective_id"], value(r["before"]), value(r["after"]), r["change"],
             r["moved_to_secure"]) for r in body["rows"]] == [
        ("p1", "ma1", (2, "2026-10-20"), (3, "2026-11-20"), 1, True),
        ("p1", "ma2", (3, "2026-10-10"), (2, "2026-12-01"), -1, False),
        ("p2", "ma1", None, (3, "2026-11-01"), None, True),
        ("p2", "ma2", (2, "2026-10-01"), None, None, False),
        ("p4", "ma1", (2, "2026-10-31"), (4, "2026-12-15"), 2, True),
        ("p4", "ma2", None, None, None, False),
        ("p3", "ma1", (2, "2026-10-05"), (2, "2026-11-15"), 0, False),
        ("p3", "ma2", None, None, None, False),
    ]
    assert body["rows"][0]["after"] == {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-11-20"}
    assert body["summary"] == {
        "pupils": 4, "small_group": True, "pairs": 8, "with_before": 5, "with_after": 5, "with_both": 4,
        "improved": 2, "unchanged": 1, "declined": 1, "secure_before": 1, "secure_after": 3,
        "moved_to_secure": 3, "pupils_moved_to_secure": 3}

    def split(dimension):
        return [(g["group"], g["pupils"], g["pairs"], g["moved_to_secure"], g["small_group"])
                for g in body["by_group"][dimension]]

    assert split("pupil_premium") == [("yes", 2, 4, 1, True), ("no", 2, 4, 2, True)]
    assert split("sen") == [("none", 2, 4, 2, True), ("support", 1, 2, 1, True), ("ehcp", 1, 2, 0, True)]
    assert split("eal") == [("yes", 1, 2, 1, True), ("no", 3, 6, 2, True)]
    assert split("gender") == [("female", 2, 4, 1, True), ("male", 1, 2, 1, True), ("unknown", 1, 2, 1, True)]


def test_small_group_threshold_is_the_trusts(client, auth, app_engine, trust, boost):
    ReadModelSeed(trust).settings(small_group_threshold=2).write(app_engine)
    body = impact(client, boost, auth("trust_leader")).get_json()
    assert body["summary"]["small_group"] is False
    assert [(g["group"], g["small_group"]) for g in body["by_group"]["eal"]] == [("yes", True), ("no", False)]


@pytest.mark.parametrize(("roles", "scope", "status"), [
    (("teacher",), {"classes": ["4a"]}, 200),
    (("teacher",), {"classes": ["4b"]}, 403),
    (("school_leader",), {"schools": ["south"]}, 200),
    (("school_leader",), {"schools": ["west"]}, 403),
    (("auditor",), {}, 200),
])
def test_who_may_read_impact(client, auth, boost, roles, scope, status):
    assert impact(client, boost, auth(*roles, **scope)).status_code == status


def test_missing_foreign_and_unauthenticated(client, auth, make_trust, boost):
    other = make_trust("other")
    assert impact(client, boost, auth("trust_leader", trust_id=other)).status_code == 404
    missing = impact(client, "nope", auth("trust_leader"))
    assert (missing.status_code, missing.get_json()["detail"]) == (404, "There is no such intervention.")
    assert impact(client, boost, {}).status_code == 401
    bad = impact(client, boost, auth("trust_leader"), format="pdf")
    assert bad.status_code == 422 and "query.format" in bad.get_json()["errors"]
