"""Moderation agreement through the reports API, on read models in a real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth


@pytest.fixture
def moderated(app_engine, trust) -> None:
    seed = (ReadModelSeed(trust).school("north").school("south")
            .klass("4n", "north").klass("4s", "south")
            .pupil("n1", "north", "4n").pupil("n2", "north", "4n").pupil("n3", "north", "4n")
            .pupil("s1", "south", "4s").pupil("s2", "south", "4s")
            .scale("edsm").objective("w1", "W4.1", "Writing", "edsm").objective("m1", "M4.1", "Maths", "edsm"))
    for pupil, teacher, moderator in [("n1", 3, 3), ("n2", 2, 3), ("n3", 4, 1), ("s1", 3, 3)]:
        seed.judgement(pupil, "w1", teacher).judgement(pupil, "w1", moderator, source="moderator")
    seed.judgement("s2", "w1", 2)  # teacher only: not a moderated pair
    seed.judgement("n1", "m1", 2, source="moderator")  # moderator only: not a pair either
    seed.write(app_engine, last_applied=30)


def test_agreement_per_objective_pooled_and_per_school(client, auth, moderated):
    response = client.get("/v1/moderation", headers=auth("trust_leader"))
    assert response.status_code == 200, response.json
    [writing] = response.json["objectives"]
    assert (writing["objective_id"], writing["pooled"]["pairs"], writing["pooled"]["agreed"],
            writing["pooled"]["agreement_percent"], writing["pooled"]["within_one"]) == ("w1", 4, 2, 50.0, 3)
    assert [(s["school_id"], s["pairs"], s["agreed"]) for s in writing["schools"]] == [("north", 3, 1),
                                                                                       ("south", 1, 1)]


def test_school_leaders_see_only_their_school(client, auth, moderated):
    mine = client.get("/v1/moderation", query_string={"school_id": "north"},
                      headers=auth("school_leader", schools=["north"]))
    assert mine.status_code == 200 and mine.json["overall"]["pairs"] == 3
    for query in ({}, {"school_id": "south"}):
        refused = client.get("/v1/moderation", query_string=query, headers=auth("school_leader", schools=["north"]))
        assert refused.status_code == 403 and "school_id" in refused.json["errors"]
    assert client.get("/v1/moderation", headers=auth("teacher", classes=["4n"])).status_code == 403


def test_csv_and_bad_arguments(client, auth, moderated):
    csv = client.get("/v1/moderation", query_string={"format": "csv"}, headers=auth("trust_leader"))
    assert csv.mimetype == "text/csv"
    assert csv.text.splitlines()[1].startswith("trust,,w1,W4.1,Writing,4,4,2,50.0,3,75.0,")
    bad = client.get("/v1/moderation", query_string={"year_group": "four"}, headers=auth("trust_leader"))
    assert bad.status_code == 422 and "query.year_group" in bad.json["errors"]


def test_another_trusts_pairs_are_invisible(client, auth, moderated, make_trust):
    other = make_trust("other")
    response = client.get("/v1/moderation", headers=auth("trust_leader", trust_id=other))
    assert response.status_code == 200 and response.json["overall"]["pairs"] == 0
