"""A teacher's session end to end over HTTP, through every real component.

API (gunicorn) → PostgreSQL event store → relay → broker → projector → read models → reports.
"""

from __future__ import annotations

from datetime import timedelta

from fathom_api.validation import school_today
from tests.support import SmallTrust, token_for


def test_teacher_records_marks_taught_starts_intervention_and_sees_exact_analysis(system, trust):
    settings = system.settings
    leader = token_for(settings, trust, ["trust_leader"], sub="head")
    teacher = token_for(settings, trust, ["teacher"], sub="ms-reid", classes=["4A"])

    def as_leader(path, body):
        response = system.post(leader, path, body)
        assert response.status_code == 201, response.text
        return response.json()

    small = SmallTrust().create(as_leader)
    today = school_today()
    earlier = today - timedelta(days=7)
    # m4-1: two rounds; the later judgement wins. m4-2: four pupils assessed. m4-3: taught only.
    first = {"p1": 1, "p2": 2, "p3": 2, "p4": 3, "p5": 4, "p6": 1}
    latest = {"p1": 3, "p2": 2, "p3": 4, "p4": 3, "p5": 4}  # p6 keeps its earlier 1
    batch = [{"pupil_id": p, "objective_id": "m4-1", "value": v, "assessed_on": earlier.isoformat()}
             for p, v in first.items()]
    batch += [{"pupil_id": p, "objective_id": "m4-1", "value": v, "assessed_on": today.isoformat()}
              for p, v in latest.items()]
    batch += [{"pupil_id": p, "objective_id": "m4-2", "value": v, "assessed_on": today.isoformat(),
               "note": "fractions quiz"} for p, v in {"p1": 2, "p2": 3, "p3": 3, "p4": 4}.items()]
    recorded = system.post(teacher, "/v1/judgements", {"judgements": batch}, **{"Idempotency-Key": "t-1"})
    assert recorded.status_code == 201, recorded.text
    assert len(recorded.json()["sequences"]) == len(batch)

    taught = system.post(teacher, "/v1/objectives-taught", {
        "class_id": "4A", "objective_ids": ["m4-1", "m4-3"], "taught_on": earlier.isoformat()})
    assert taught.status_code == 201, taught.text
    intervention = system.post(teacher, "/v1/interventions", {
        "id": "boost-1", "name": "Number boost", "lead": "Ms Reid", "pupil_ids": ["p2", "p6"],
        "objective_ids": ["m4-1"], "start_date": today.isoformat()})
    assert intervention.status_code == 201, intervention.text
    last = intervention.json()["last_sequence"]

    response = system.get(teacher, "/v1/classes/4A/analysis", consistency=f"at_least:{last}")
    assert response.status_code == 200, response.text
    analysis = response.json()
    assert analysis["sequence"] >= last
    assert [p["pupil_id"] for p in analysis["pupils"]] == small.pupils_a
    by_objective = {o["objective_id"]: o for o in analysis["objectives"]}
    assert set(by_objective) == {"m4-1", "m4-2", "m4-3"}

    m1 = by_objective["m4-1"]
    assert [(c["label"], c["count"]) for c in m1["counts"]] == [
        ("Emerging", 1), ("Developing", 1), ("Secure", 2), ("Mastery", 2)]
    assert (m1["assessed"], m1["not_assessed"], m1["secure"], m1["percent_secure"]) == (6, 0, 4, 66.7)
    assert sorted(m1["pupils_not_secure"]) == ["p2", "p6"]
    assert m1["taught_dates"] == [earlier.isoformat()] and m1["taught"] is True

    m2 = by_objective["m4-2"]
    assert [c["count"] for c in m2["counts"]] == [0, 1, 2, 1]
    assert (m2["assessed"], m2["not_assessed"], m2["percent_secure"]) == (4, 2, 75.0)
    assert sorted(m2["pupils_not_assessed"]) == ["p5", "p6"]
    assert m2["taught"] is False

    m3 = by_objective["m4-3"]
    assert (m3["assessed"], m3["not_assessed"], m3["taught"]) == (0, 6, True)
    assert m3["percent_secure"] is None

    heat = {row["pupil_id"]: row["cells"] for row in analysis["heat_map"]}
    assert heat["p1"]["m4-1"]["value"] == 3 and heat["p6"]["m4-1"]["value"] == 1
    assert (heat["p1"]["m4-2"]["source"], heat["p1"]["m4-2"]["assessed_on"]) == ("teacher", today.isoformat())
    assert "m4-2" not in heat["p5"]
    assert [i["intervention_id"] for i in analysis["interventions"]] == ["boost-1"]
    assert analysis["interventions"][0]["pupil_ids"] == ["p2", "p6"]

    pupil_premium = system.get(teacher, "/v1/classes/4A/analysis", group="pupil_premium",
                               consistency=f"at_least:{last}").json()
    # SmallTrust gives pupil premium to every other pupil: p1, p3, p5.
    assert [p["pupil_id"] for p in pupil_premium["pupils"]] == ["p1", "p3", "p5"]
    pp_m1 = {o["objective_id"]: o for o in pupil_premium["objectives"]}["m4-1"]
    assert [c["count"] for c in pp_m1["counts"]] == [0, 0, 1, 2]


def test_a_retried_write_with_the_same_key_counts_once(system, trust):
    settings = system.settings
    leader = token_for(settings, trust, ["trust_leader"])
    small = SmallTrust().create(lambda path, body: system.post(leader, path, body).json())
    body = {"judgements": [{"pupil_id": "p1", "objective_id": "m4-1", "value": 3,
                            "assessed_on": school_today().isoformat()}]}
    first = system.post(leader, "/v1/judgements", body, **{"Idempotency-Key": "same"})
    second = system.post(leader, "/v1/judgements", body, **{"Idempotency-Key": "same"})
    assert first.json() == second.json()
    analysis = system.get(leader, f"/v1/classes/{small.class_a}/analysis",
                          consistency=f"at_least:{first.json()['last_sequence']}").json()
    m1 = {o["objective_id"]: o for o in analysis["objectives"]}["m4-1"]
    assert m1["assessed"] == 1 and analysis["sequence"] == first.json()["last_sequence"]
