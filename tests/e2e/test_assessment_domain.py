"""Issue 3 end to end: a hand-made trust whose every number is worked out by hand.

Through HTTP and every real process: a correction, a withdrawal, a self-assessment kept apart,
a pupil moving class, a leaver, an erased pupil, a small group, each rollup method, an
intervention's impact, and the school and trust analyses pooling pupils (never percentages).

Trust (from SmallTrust): one school, 4A = p1..p6, 4B = p7, p8; scale 1 Emerging, 2 Developing,
3 Secure, 4 Mastery; objectives m4-1..m4-3.
"""

from __future__ import annotations

from datetime import timedelta

import requests

from fathom_api.validation import school_today
from tests.support import SmallTrust, token_for

TODAY = school_today()
D1, D2, D3 = TODAY - timedelta(days=30), TODAY - timedelta(days=20), TODAY - timedelta(days=5)


def objective(view: dict, objective_id: str) -> dict:
    return {o["objective_id"]: o for o in view["objectives"]}[objective_id]


def counts(row: dict) -> list[int]:
    return [c["count"] for c in row["counts"]]


def test_the_assessment_domain_adds_up(system, trust):
    leader = token_for(system.settings, trust, ["trust_leader"], sub="head")
    last = 0

    def post(path: str, body: dict, method: str = "POST") -> dict:
        nonlocal last
        response = requests.request(method, system.api + path, json=body,
                                    headers={"Authorization": f"Bearer {leader}"}, timeout=30)
        assert response.status_code in (200, 201), (path, response.text)
        answer = response.json()
        last = max(last, answer.get("last_sequence") or 0)
        return answer

    def read(path: str, **params: str) -> dict:
        response = system.get(leader, path, consistency=f"at_least:{last}", **params)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    SmallTrust().create(post)
    # Round 1 (D1): m4-1 for p1..p6 and p7.  Values: p1 1, p2 2, p3 3, p4 4, p5 2, p6 3, p7 1.
    first = {"p1": 1, "p2": 2, "p3": 3, "p4": 4, "p5": 2, "p6": 3, "p7": 1}
    answer = post("/v1/judgements", {"judgements": [
        {"pupil_id": p, "objective_id": "m4-1", "value": v, "assessed_on": D1.isoformat()} for p, v in first.items()]})
    ids = dict(zip(first, answer["event_ids"], strict=True))
    # p1 assesses themself at 4: kept apart from the teacher's view.
    post("/v1/judgements", {"judgements": [{"pupil_id": "p1", "objective_id": "m4-1", "value": 4, "source": "self",
                                            "assessed_on": D1.isoformat()}]})
    post(f"/v1/judgements/{ids['p2']}/correction", {"value": 3, "reason": "Entered in the wrong column"})
    post(f"/v1/judgements/{ids['p6']}/withdrawal", {"reason": "Recorded for the wrong pupil"})
    post("/v1/interventions", {"id": "boost", "name": "Number boost", "lead": "Ms Reid", "pupil_ids": ["p1", "p2"],
                               "objective_ids": ["m4-1"], "start_date": D2.isoformat()})
    # Round 2 (D3): p1 rises to 3 (secure), p2 drops to 2.
    post("/v1/judgements", {"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 3, "assessed_on": D3.isoformat()},
        {"pupil_id": "p2", "objective_id": "m4-1", "value": 2, "assessed_on": D3.isoformat()}]})
    post("/v1/pupils/p5/move", {"class_id": "4B", "moved_on": D3.isoformat()})
    post("/v1/pupils/p4/leaving", {"left_on": D3.isoformat()})
    post("/v1/pupils/p3/personal-data", {}, method="DELETE")

    # Class 4A now: p1 (3), p2 (2: latest after the corrected 3), p3 (3, erased), p6 (withdrawn: not assessed).
    view = read("/v1/classes/4A/analysis")
    assert sorted(p["pupil_id"] for p in view["pupils"]) == ["p1", "p2", "p3", "p6"]
    erased = {p["pupil_id"]: p for p in view["pupils"]}["p3"]
    assert (erased["name"], erased["erased"]) == (None, True)
    m1 = objective(view, "m4-1")
    assert counts(m1) == [0, 1, 2, 0]
    assert (m1["assessed"], m1["not_assessed"], m1["secure"], m1["percent_secure"]) == (3, 1, 2, 66.7)
    assert m1["small_group"] is True  # 3 assessed pupils < the default threshold of 5
    assert m1["pupils_not_secure"] == ["p2"] and m1["pupils_not_assessed"] == ["p6"]
    self_view = objective(read("/v1/classes/4A/analysis", source="self"), "m4-1")
    assert counts(self_view) == [0, 0, 0, 1]

    # Rollup methods over p2's judgements (D1: 2 corrected to 3, D3: 2) and p1's (D1: 1, D3: 3).
    post("/v1/settings/rollup", {"method": "highest"}, method="PUT")
    assert counts(objective(read("/v1/classes/4A/analysis"), "m4-1")) == [0, 0, 3, 0]  # p2 → 3
    post("/v1/settings/rollup", {"method": "mean_last_n", "n": 2}, method="PUT")
    # p1: mean(1, 3) = 2; p2: mean(3, 2) = 2.5 → tie to the higher band, 3; p3: 3.
    assert counts(objective(read("/v1/classes/4A/analysis"), "m4-1")) == [0, 1, 2, 0]
    post("/v1/settings/rollup", {"method": "secure_n_times", "n": 2}, method="PUT")
    # Secure only once judged secure twice: p1 (once) capped to 2; p2 latest 2; p3 once → capped to 2.
    assert counts(objective(read("/v1/classes/4A/analysis"), "m4-1")) == [0, 3, 0, 0]
    post("/v1/settings/rollup", {"method": "latest"}, method="PUT")

    # 4B now has p5 (moved in, 2), p7 (1) and p8 (not assessed).
    b = objective(read("/v1/classes/4B/analysis"), "m4-1")
    assert (counts(b), b["assessed"], b["not_assessed"]) == ([1, 1, 0, 0], 2, 1)

    # School and trust: pupils pooled over 4A and 4B — 5 assessed, 2 secure: 40.0%, not the 33.3% an
    # average of the classes' percentages (66.7% and 0%) would give.
    school = objective(read("/v1/schools/sch-1/analysis", year_group="4"), "m4-1")
    assert (counts(school["pooled"]), school["pooled"]["assessed"], school["pooled"]["percent_secure"]) == (
        [1, 2, 2, 0], 5, 40.0)
    assert {c["class_id"]: c["percent_secure"] for c in school["classes"]} == {"4A": 66.7, "4B": 0.0}
    pooled = objective(read("/v1/trust/analysis", year_group="4"), "m4-1")["pooled"]
    assert (counts(pooled), pooled["percent_secure"]) == ([1, 2, 2, 0], 40.0)

    # The pupil profile keeps p2's whole history: the correction and the later judgement.
    profile = read("/v1/pupils/p2")
    history = objective(profile, "m4-1")["history"]
    assert [(h["value"], h["original_value"], h["status"]) for h in history] == [
        (3, 2, "corrected"), (2, 2, "recorded")]
    assert history[0]["reason"] == "Entered in the wrong column"

    # Intervention impact: before = latest before D2, after = latest since. p1 1 → 3 (to secure); p2 3 → 2.
    impact = read("/v1/interventions/boost")
    rows = {r["pupil_id"]: r for r in impact["rows"]}
    assert (rows["p1"]["before"]["value"], rows["p1"]["after"]["value"], rows["p1"]["change"]) == (1, 3, 2)
    assert rows["p1"]["moved_to_secure"] is True
    assert (rows["p2"]["before"]["value"], rows["p2"]["after"]["value"], rows["p2"]["change"]) == (3, 2, -1)
    assert impact["summary"]["moved_to_secure"] == 1 and impact["summary"]["small_group"] is True
