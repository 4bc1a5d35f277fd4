"""School and trust analysis against real PostgreSQL: pooled counts, drill-down links, access.

Pooling is checked with numbers where the average of the schools' percentages (65.0) and
the pooled percentage (66.7) differ, so an average could not pass.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from marshmallow import RAISE
from sqlalchemy import event

from fathom_reports.responses import BODIES_EXTENSION
from fathom_reports.schemas.pooled import SchoolAnalysisSchema, TrustAnalysisSchema
from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth


@pytest.fixture
def trust_data(app_engine, trust) -> None:
    seed = (ReadModelSeed(trust)
            .school("north").school("south")
            .klass("4a", "north").klass("4b", "north").klass("4s", "south").klass("5a", "north", year_group=5)
            .pupil("a1", "north", "4a", pupil_premium=True).pupil("a2", "north", "4a")
            .pupil("a3", "north", "4a", erased=True, pupil_premium=True)
            .pupil("a4", "north", "4a", left_on=date(2026, 10, 1))
            .pupil("b1", "north", "4b").pupil("b2", "north", "4b", pupil_premium=True)
            .pupil("s1", "south", "4s", pupil_premium=True).pupil("s2", "south", "4s").pupil("s3", "south", "4s")
            .pupil("s4", "south", "4s").pupil("s5", "south", "4s")
            .pupil("f1", "north", "5a", year_group=5)
            .scale("edsm")
            .objective("ma1", "MA4.1", "Maths", "edsm").objective("ma2", "MA4.2", "Maths", "edsm")
            .objective("en1", "EN4.1", "English", "edsm")
            .objective("old", "MA4.0", "Maths", "edsm", retired=True)
            .objective("unused", "MA4.8", "Maths", "edsm", retired=True)
            .objective("ma5", "MA5.1", "Maths", "edsm", year_group=5))
    for pupil, value in [("a1", 3), ("a2", 1), ("a3", 4), ("a4", 3), ("b1", 2), ("s1", 3), ("s2", 3), ("s3", 4),
                         ("s4", 1), ("s5", 4)]:
        seed.judgement(pupil, "ma1", value)
    (seed.judgement("b2", "ma1", 4, source="moderator").judgement("a1", "en1", 1).judgement("s1", "en1", 3)
     .judgement("b1", "old", 3).judgement("f1", "ma5", 3)
     .write(app_engine, last_applied=60))


def school_view(client, school_id: str, headers, **query):
    return client.get(f"/v1/schools/{school_id}/analysis", headers=headers, query_string=query)


def trust_view(client, headers, **query):
    return client.get("/v1/trust/analysis", headers=headers, query_string=query)


def tallied(row: dict[str, Any]) -> tuple:
    return ([c["count"] for c in row["counts"]], row["pupils"], row["assessed"], row["not_assessed"],
            row["secure"], row["percent_secure"], row["small_group"])


def test_school_analysis_exact(client, auth, trust_data):
    response = school_view(client, "north", auth("school_leader", schools=["north"]), year_group=4)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    SchoolAnalysisSchema().load(body, unknown=RAISE)
    assert body["school"] == {"id": "north", "name": "North"}
    assert body["filters"] == {"year_group": 4, "subject": None, "group": None, "source": "teacher"}
    assert (body["sequence"], body["pupils"]) == (60, 5)  # the leaver a4 is not counted; erased a3 is
    assert [(c["class_id"], c["pupils"], c["links"]["analysis"]) for c in body["classes"]] == [
        ("4a", 3, "/v1/classes/4a/analysis?source=teacher"), ("4b", 2, "/v1/classes/4b/analysis?source=teacher")]
    assert [o["code"] for o in body["objectives"]] == ["EN4.1", "MA4.0", "MA4.1", "MA4.2"]
    ma1 = next(o for o in body["objectives"] if o["objective_id"] == "ma1")
    assert tallied(ma1["pooled"]) == ([1, 1, 1, 1], 5, 4, 1, 2, 50.0, True)
    assert [(c["class_id"], *tallied(c)) for c in ma1["classes"]] == [
        ("4a", [1, 0, 1, 1], 3, 3, 0, 2, 66.7, True), ("4b", [0, 1, 0, 0], 2, 1, 1, 0, 0.0, True)]


def test_trust_analysis_pools_pupils_never_averages_percentages(client, auth, trust_data):
    response = trust_view(client, auth("trust_leader"), year_group=4)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    TrustAnalysisSchema().load(body, unknown=RAISE)
    assert body["pupils"] == 10
    assert [(s["school_id"], s["name"], s["pupils"], s["links"]["analysis"]) for s in body["schools"]] == [
        ("north", "North", 5, "/v1/schools/north/analysis?year_group=4&source=teacher"),
        ("south", "South", 5, "/v1/schools/south/analysis?year_group=4&source=teacher")]
    ma1 = next(o for o in body["objectives"] if o["objective_id"] == "ma1")
    assert [(s["school_id"], s["percent_secure"]) for s in ma1["schools"]] == [("north", 50.0), ("south", 80.0)]
    assert tallied(ma1["pooled"]) == ([2, 1, 3, 3], 10, 9, 1, 6, 66.7, False)  # not (50 + 80) / 2 = 65.0
    en1 = next(o for o in body["objectives"] if o["objective_id"] == "en1")
    assert tallied(en1["pooled"]) == ([1, 0, 1, 0], 10, 2, 8, 1, 50.0, True)


def test_filters_group_subject_and_source(client, auth, trust_data):
    body = trust_view(client, auth("trust_leader"), year_group=4, group="pupil_premium").get_json()
    ma1 = next(o for o in body["objectives"] if o["objective_id"] == "ma1")
    assert [(s["school_id"], s["pupils"], s["assessed"]) for s in ma1["schools"]] == [("north", 3, 2),
                                                                                      ("south", 1, 1)]
    assert tallied(ma1["pooled"])[1:6] == (4, 3, 1, 3, 100.0)
    assert body["schools"][0]["links"]["analysis"] == \
        "/v1/schools/north/analysis?year_group=4&group=pupil_premium&source=teacher"
    english = trust_view(client, auth("trust_leader"), year_group=4, subject="English").get_json()
    assert [o["code"] for o in english["objectives"]] == ["EN4.1"]
    moderated = school_view(client, "north", auth("trust_leader"), year_group=4, source="moderator").get_json()
    ma1 = next(o for o in moderated["objectives"] if o["objective_id"] == "ma1")
    assert [(c["class_id"], c["assessed"]) for c in ma1["classes"]] == [("4a", 0), ("4b", 1)]
    year5 = trust_view(client, auth("trust_leader"), year_group=5).get_json()
    assert ([o["code"] for o in year5["objectives"]], year5["pupils"]) == (["MA5.1"], 1)


@pytest.mark.parametrize(("roles", "scope", "school_status", "trust_status"), [
    (("school_leader",), {"schools": ["north"]}, 200, 403),
    (("school_leader",), {"schools": ["south"]}, 403, 403),
    (("teacher",), {"classes": ["4a"]}, 403, 403),
    (("trust_leader",), {}, 200, 200),
    (("auditor",), {}, 200, 200),
    (("integration",), {}, 200, 200),
    (("platform_admin",), {}, 200, 200),
])
def test_who_may_read_pooled_analyses(client, auth, trust_data, roles, scope, school_status, trust_status):
    assert school_view(client, "north", auth(*roles, **scope), year_group=4).status_code == school_status
    assert trust_view(client, auth(*roles, **scope), year_group=4).status_code == trust_status


def test_missing_and_foreign_school_is_404_unauthenticated_401(client, auth, app_engine, make_trust, trust_data):
    other = make_trust("other")
    ReadModelSeed(other).school("west").write(app_engine, last_applied=1)
    assert school_view(client, "west", auth("trust_leader"), year_group=4).status_code == 404
    assert school_view(client, "west", auth("school_leader", schools=["west"]), year_group=4).status_code == 404
    assert school_view(client, "nowhere", auth("trust_leader"), year_group=4).status_code == 404
    assert school_view(client, "north", {}, year_group=4).status_code == 401
    assert trust_view(client, {}, year_group=4).status_code == 401


@pytest.mark.parametrize(("query", "field"), [
    ({}, "year_group"), ({"year_group": "four"}, "year_group"), ({"year_group": "99"}, "year_group"),
    ({"year_group": "4", "group": "tall"}, "group"), ({"year_group": "4", "source": "parent"}, "source"),
    ({"year_group": "4", "colour": "red"}, "colour"),
])
def test_bad_query_arguments_name_the_field(client, auth, trust_data, query, field):
    for response in (trust_view(client, auth("trust_leader"), **query),
                     school_view(client, "north", auth("trust_leader"), **query)):
        assert response.status_code == 422
        assert any(key.split(".")[-1] == field for key in response.get_json()["errors"])


def test_trust_analysis_is_one_query_per_table(client, auth, app_engine, trust_data):
    headers = auth("trust_leader")
    trust_view(client, headers, year_group=4)  # caches the trust's status
    client.application.extensions[BODIES_EXTENSION].clear()  # measure a body rendered afresh, not a kept one
    statements: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(app_engine, "before_cursor_execute", record)
    try:
        assert trust_view(client, headers, year_group=4).status_code == 200
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert len(statements) <= 11, statements  # two of them the kept body's key: position and head
    assert sum("GROUP BY" in s for s in statements) == 1
