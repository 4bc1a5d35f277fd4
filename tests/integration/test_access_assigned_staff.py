"""One access policy in both services: a teacher assigned to a class by the staff endpoint (as a roster
import does), with no ``classes`` claim in their token, reads what they may write.

Before the shared policy the command API honoured the assignment and the reports service did not: the
teacher could record 4B's judgements but was refused 4B's Class Analysis (and so its entry grid).
"""

from __future__ import annotations

import pytest

from fathom_api.validation import school_today
from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from tests.support import bearer, token_for


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


def test_an_assigned_teacher_reads_the_class_they_write(client, reports, leader, small, settings, trust,
                                                          app_engine):
    assert client.post("/v1/classes/4B/staff", json={"staff_sub": "ms-b"}, headers=leader).status_code == 201
    teacher = bearer(token_for(settings, trust, ["teacher"], sub="ms-b"))  # no classes claim
    wrote = client.post("/v1/judgements", headers=teacher, json={"judgements": [
        {"pupil_id": "p7", "objective_id": "m4-1", "value": 3, "assessed_on": school_today().isoformat()}]})
    assert wrote.status_code == 201, wrote.json
    rebuild_trust(app_engine, trust)

    analysis = reports.get("/v1/classes/4B/analysis", headers=teacher)
    assert analysis.status_code == 200, analysis.get_json()
    assert [p["pupil_id"] for p in analysis.get_json()["pupils"]] == ["p7", "p8"]
    assert reports.get(f"/v1/classes/4B/analysis?as_of={wrote.json['last_sequence']}",
                       headers=teacher).status_code == 200
    assert reports.get("/v1/pupils/p7", headers=teacher).status_code == 200
    directory = reports.get("/v1/directory", headers=teacher).get_json()
    assert [c["class_id"] for s in directory["schools"] for c in s["classes"]] == ["4B"]
    # ... and nothing beyond the assignment
    assert reports.get("/v1/classes/4A/analysis", headers=teacher).status_code == 403
    assert reports.get("/v1/pupils/p1", headers=teacher).status_code == 403

    assert client.delete("/v1/classes/4B/staff/ms-b", headers=leader).status_code == 200
    assert reports.get("/v1/classes/4B/analysis", headers=teacher).status_code == 403
