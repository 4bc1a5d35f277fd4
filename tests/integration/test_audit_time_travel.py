"""Time travel on every analysis endpoint: ``as_of`` (a sequence or a timestamp) replays the event store.

The story (``audit_story``) plus 21: an intervention for p1 and p2 on m4-1; 22: p2 moves to 4B. The read
models are built by the projector's own rebuild, so "as of now" can be compared with the live view.
"""

from __future__ import annotations

import pytest

from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from fathom_reports.loading.time_travel import class_analysis_as_of
from tests.integration.audit_story import Story, tell
from tests.support import bearer, events_of, token_for


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def story(client, settings, trust, app_engine) -> Story:
    told = tell(client, settings, trust)
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    for path, body in (("/v1/interventions", {"id": "iv-1", "name": "Number club", "lead": "t-rae",
                                              "pupil_ids": ["p1", "p2"], "objective_ids": ["m4-1"],
                                              "start_date": told.assessed_on.isoformat()}),
                       ("/v1/pupils/p2/move", {"class_id": "4B", "moved_on": told.assessed_on.isoformat()})):
        answer = client.post(path, json=body, headers=leader)
        assert answer.status_code == 201, answer.json
    assert rebuild_trust(app_engine, trust) == 22
    return told


@pytest.fixture
def auditor(settings, trust):
    return bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))


def cell(view: dict, pupil: str, objective: str) -> int | None:
    row = next((r for r in view["heat_map"] if r["pupil_id"] == pupil), None)
    found = row["cells"].get(objective) if row else None
    return found["value"] if found else None


def class_view(reports, auditor, as_of: str | int | None = None, class_id: str = "4A") -> dict:
    query = {} if as_of is None else {"as_of": str(as_of)}
    answer = reports.get(f"/v1/classes/{class_id}/analysis", query_string=query, headers=auditor)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_as_of_a_sequence_before_a_correction_shows_the_original(reports, story, auditor):
    assert cell(class_view(reports, auditor, 17), "p1", "m4-1") == 2
    assert cell(class_view(reports, auditor, 18), "p1", "m4-1") == 3
    withdrawn = class_view(reports, auditor, 20)
    assert cell(withdrawn, "p1", "m4-1") is None
    m41 = next(o for o in withdrawn["objectives"] if o["objective_id"] == "m4-1")
    assert (m41["assessed"], m41["pupils_not_assessed"]) == (1, ["p1", "p3", "p4", "p5", "p6"])


def test_the_auditors_past_view_differs_from_todays(reports, story, auditor):
    past, today = class_view(reports, auditor, 18), class_view(reports, auditor)
    assert (past["sequence"], cell(past, "p1", "m4-1"), cell(past, "p2", "m4-1")) == (18, 3, 3)
    assert (today["sequence"], cell(today, "p1", "m4-1")) == (22, None)
    assert "p2" not in [p["pupil_id"] for p in today["pupils"]]


def test_as_of_a_timestamp_between_two_events_shows_the_state_after_the_first(reports, story, auditor, app_engine):
    at = {e.sequence: e.recorded_at for e in events_of(app_engine, story.trust)}
    between = at[18] + (at[19] - at[18]) / 2
    view = class_view(reports, auditor, between.isoformat())
    assert view["sequence"] == 18
    assert (cell(view, "p1", "m4-1"), cell(view, "p1", "m4-2")) == (3, None)
    assert class_view(reports, auditor, at[19].isoformat())["sequence"] == 19


def test_a_later_move_is_excluded(reports, story, auditor):
    before = class_view(reports, auditor, 21)
    assert [p["pupil_id"] for p in before["pupils"]] == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert [p["pupil_id"] for p in class_view(reports, auditor, 21, "4B")["pupils"]] == ["p7", "p8"]
    assert [p["pupil_id"] for p in class_view(reports, auditor, 22, "4B")["pupils"]] == ["p2", "p7", "p8"]


@pytest.mark.parametrize("path", [
    "/v1/classes/4A/analysis", "/v1/classes/4B/analysis", "/v1/classes/4B/analysis?source=self",
    "/v1/classes/4A/analysis?group=pupil_premium", "/v1/schools/sch-1/analysis?year_group=4",
    "/v1/trust/analysis?year_group=4", "/v1/trust/analysis?year_group=4&subject=maths",
    "/v1/pupils/p1", "/v1/pupils/p2", "/v1/interventions/iv-1",
])
def test_as_of_now_equals_the_live_view(reports, story, auditor, path):
    live = reports.get(path, headers=auditor).get_json()
    separator = "&" if "?" in path else "?"
    for as_of in ("22", "2999-01-01T00:00:00Z"):
        past = reports.get(f"{path}{separator}as_of={as_of}", headers=auditor)
        assert past.status_code == 200, past.get_json()
        replayed = past.get_json()
        if "intervention" in live:  # "today" is the day of the moment asked for, not the wall clock's
            live["intervention"].pop("evidence_until", None), replayed["intervention"].pop("evidence_until")
        assert replayed == live


def test_the_benchmark_entry_point_gives_the_endpoints_view(reports, story, auditor, app_engine):
    assert class_analysis_as_of(app_engine, story.trust, "4A", 18) == class_view(reports, auditor, 18)
    assert class_analysis_as_of(app_engine, story.trust, "nope", 18) is None


@pytest.mark.parametrize(("path", "as_of"), [
    ("/v1/classes/4A/analysis", 1), ("/v1/classes/4A/analysis", 0), ("/v1/pupils/p1", 3),
    ("/v1/interventions/iv-1", 20), ("/v1/schools/sch-1/analysis?year_group=4", 0),
])
def test_before_it_existed_is_404(reports, story, auditor, path, as_of):
    separator = "&" if "?" in path else "?"
    assert reports.get(f"{path}{separator}as_of={as_of}", headers=auditor).status_code == 404


def test_another_trusts_past_is_invisible(reports, story, settings, make_trust):
    other = bearer(token_for(settings, make_trust("other"), ["auditor"]))
    assert reports.get("/v1/classes/4A/analysis?as_of=18", headers=other).status_code == 404
    assert reports.get("/v1/pupils/p1?as_of=18", headers=other).status_code == 404


@pytest.mark.parametrize("as_of", ["yesterday", "-3", "12345678901234567890", "2026-13-01"])
def test_a_bad_as_of_is_422_naming_it(reports, story, auditor, as_of):
    answer = reports.get(f"/v1/classes/4A/analysis?as_of={as_of}", headers=auditor)
    assert answer.status_code == 422 and "query.as_of" in answer.get_json()["errors"]


def test_teachers_travel_only_in_their_own_classes(reports, story, settings):
    teacher = bearer(token_for(settings, story.trust, ["teacher"], classes=["4B"]))
    assert reports.get("/v1/classes/4A/analysis?as_of=18", headers=teacher).status_code == 403
    assert reports.get("/v1/classes/4B/analysis?as_of=18", headers=teacher).status_code == 200
