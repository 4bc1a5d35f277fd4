"""Trust A's token never reads, writes or infers trust B's data, through any endpoint."""

from __future__ import annotations

import json

import requests

from fathom_api.validation import school_today
from tests.support import SmallTrust, bearer, token_for


def test_other_trusts_ids_are_not_found_and_never_leak(system, make_trust):
    settings = system.settings
    a, b = make_trust("iso-a"), make_trust("iso-b")
    token_a = token_for(settings, a, ["trust_leader"])
    token_b = token_for(settings, b, ["trust_leader"])
    # Trust B has a class 4B-secret; trust A uses different ids for everything.
    trust_b = SmallTrust(class_a="4B-secret", class_b="4B-other", pupils_a=["b1", "b2"], pupils_b=["b3"],
                         objectives=["b-o1"], scale="b-scale", school="b-school")
    trust_b.create(lambda path, body: system.post(token_b, path, body).json())
    written = system.post(token_b, "/v1/judgements", {"judgements": [
        {"pupil_id": "b1", "objective_id": "b-o1", "value": 4, "assessed_on": school_today().isoformat()}]})
    assert written.status_code == 201
    b_last = written.json()["last_sequence"]
    SmallTrust().create(lambda path, body: system.post(token_a, path, body).json())

    # Reads: B's class id is simply not found for A, exactly like an id that never existed.
    visible = system.get(token_b, "/v1/classes/4B-secret/analysis", consistency=f"at_least:{b_last}")
    assert visible.status_code == 200
    foreign = system.get(token_a, "/v1/classes/4B-secret/analysis")
    missing = system.get(token_a, "/v1/classes/never-existed/analysis")
    assert foreign.status_code == missing.status_code == 404
    strip = lambda r: {k: v for k, v in r.json().items() if k not in ("instance", "detail")}  # noqa: E731
    assert strip(foreign) == strip(missing)
    # The random request id in `instance` may contain anything; everything else must not name B.
    echoed = json.dumps({k: v for k, v in foreign.json().items() if k != "instance"})
    assert "4B-secret" not in echoed and "b1" not in echoed

    # Writes naming B's ids: unknown, nothing appended, nothing of B's echoed back.
    for path, body, field in [
        ("/v1/judgements", {"judgements": [{"pupil_id": "b1", "objective_id": "b-o1", "value": 1,
                                            "assessed_on": school_today().isoformat()}]}, "judgements.0.pupil_id"),
        ("/v1/objectives-taught", {"class_id": "4B-secret", "objective_ids": ["b-o1"],
                                   "taught_on": school_today().isoformat()}, "class_id"),
        ("/v1/interventions", {"name": "x", "lead": "y", "pupil_ids": ["b1"], "objective_ids": ["b-o1"],
                               "start_date": school_today().isoformat()}, "pupil_ids.0"),
        ("/v1/pupils", {"school_id": "b-school", "class_id": "4B-secret"}, "school_id"),
        ("/v1/classes", {"school_id": "b-school", "name": "x", "year_group": 4, "academic_year": "2026-27"},
         "school_id"),
        ("/v1/objectives", {"code": "x", "subject": "maths", "year_group": 4, "text": "x", "scale_id": "b-scale"},
         "scale_id"),
    ]:
        response = system.post(token_a, path, body)
        assert response.status_code == 422, (path, response.text)
        assert field in response.json()["errors"], (path, response.text)

    # B's read model is exactly as B left it.
    after = system.get(token_b, "/v1/classes/4B-secret/analysis", consistency=f"at_least:{b_last}").json()
    assert after["sequence"] == b_last
    b_o1 = {o["objective_id"]: o for o in after["objectives"]}["b-o1"]
    assert b_o1["assessed"] == 1

    # A token whose trust claim names B cannot be forged with another key, and a token without a trust fails.
    assert requests.get(system.reports + "/v1/classes/4B-secret/analysis",
                        headers=bearer(token_a[:-8] + "AAAAAAAA"), timeout=10).status_code == 401
