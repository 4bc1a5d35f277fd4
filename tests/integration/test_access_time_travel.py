"""A teacher's time travel covers their current classes and current pupils only, and is authorised before
anything is replayed.

The story (``audit_story``) plus 21: intervention iv-1 for p1 and p2 led by ``t-rae``; 22: p2 moves from 4A
to 4B. Before: a teacher of 4A reading 4A ``as_of`` 18 saw p2, who is no longer theirs, and could open p2's
past profile; a request for a class, pupil, school or intervention that was not the caller's replayed the
history first and only then answered 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from fathom_reports.views.heat_map import expand_heat_map
from tests.integration.test_audit_time_travel import cell, reports, story  # noqa: F401  (fixtures)
from tests.support import bearer, token_for


@pytest.fixture
def teacher(settings, story):  # noqa: F811
    def make(*classes: str, sub: str = "t-x") -> dict[str, str]:
        return bearer(token_for(settings, story.trust, ["teacher"], classes=classes, sub=sub))
    return make


def test_a_past_view_of_their_class_holds_only_their_pupils_of_today(reports, story, teacher):  # noqa: F811
    past = reports.get("/v1/classes/4A/analysis?as_of=18", headers=teacher("4A"))
    assert past.status_code == 200, past.get_json()
    view = past.get_json()
    assert [p["pupil_id"] for p in view["pupils"]] == ["p1", "p3", "p4", "p5", "p6"]  # p2 moved to 4B since
    assert "p2" not in str(view["heat_map"]) and cell(view, "p1", "m4-1") == 3
    m41 = next(o for o in view["objectives"] if o["objective_id"] == "m4-1")
    assert m41["assessed"] == 1
    # p2's teacher today does not see them in 4B before they arrived, nor 4A's past
    assert [p["pupil_id"] for p in reports.get("/v1/classes/4B/analysis?as_of=21", headers=teacher("4B"))
            .get_json()["pupils"]] == ["p7", "p8"]


def test_a_pupil_no_longer_theirs_is_refused_in_the_past_too(reports, story, teacher):  # noqa: F811
    assert reports.get("/v1/pupils/p2?as_of=18", headers=teacher("4A")).status_code == 403
    assert reports.get("/v1/pupils/p2", headers=teacher("4A")).status_code == 403
    assert reports.get("/v1/pupils/p2?as_of=18", headers=teacher("4B")).status_code == 200
    assert reports.get("/v1/pupils/p1?as_of=18", headers=teacher("4A")).status_code == 200


def test_an_assigned_teacher_travels_in_their_class(client, reports, story, teacher, settings):  # noqa: F811
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"))
    assert client.post("/v1/classes/4A/staff", json={"staff_sub": "ms-a"}, headers=leader).status_code == 201
    past = reports.get("/v1/classes/4A/analysis?as_of=18", headers=teacher(sub="ms-a"))
    assert past.status_code == 200, past.get_json()
    assert "p2" not in [p["pupil_id"] for p in past.get_json()["pupils"]]


@pytest.mark.parametrize(("path", "who"), [
    ("/v1/classes/4A/analysis?as_of=18", {"roles": ["teacher"], "classes": ["4B"]}),
    ("/v1/pupils/p1?as_of=18", {"roles": ["teacher"], "classes": ["4B"]}),
    ("/v1/schools/sch-1/analysis?year_group=4&as_of=18", {"roles": ["school_leader"], "schools": ["sch-9"]}),
    ("/v1/interventions/iv-1?as_of=22", {"roles": ["teacher"], "classes": ["9Z"]}),
])
def test_refused_before_any_history_is_replayed(reports, story, settings, app_engine, path, who):  # noqa: F811
    headers = bearer(token_for(settings, story.trust, who.pop("roles"), **who))
    reports.get("/v1/directory", headers=headers)  # caches the trust's status
    replayed: list[Any] = []

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "FROM events" in statement and "recorded_at FROM events" not in statement:
            # the intervention's own stream may be read to know who is in it; no pupil's or class's history
            named = set((parameters or {}).get("pair_types") or ())
            if named - {"intervention"} or (parameters or {}).get("types") or "data->>'class_id'" in statement:
                replayed.append(statement)

    event.listen(app_engine, "before_cursor_execute", record)
    try:
        answer = reports.get(path, headers=headers)
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert answer.status_code == 403, answer.get_json()
    assert replayed == []


def test_a_past_view_in_the_compact_form_is_the_same_past_view(reports, story, teacher):  # noqa: F811
    full = reports.get("/v1/classes/4A/analysis?as_of=18", headers=teacher("4A"))
    compact = reports.get("/v1/classes/4A/analysis?as_of=18&heat_map=compact", headers=teacher("4A"))
    assert full.status_code == compact.status_code == 200
    assert full.headers["ETag"] != compact.headers["ETag"]
    body = compact.get_json()
    objective_ids = [objective["objective_id"] for objective in body["objectives"]]
    assert {**body, "heat_map": expand_heat_map(body["heat_map"], objective_ids)} == full.get_json()
    assert "p2" not in str(body["heat_map"])
