"""Kept bodies of past views (``as_of``): named by the moment, the trust's head, the pupils the caller may see
and their names now, so a kept past view is the fresh replay byte for byte and never another caller's."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

from fathom_reports import create_app
from fathom_reports.responses import BODIES_EXTENSION
from fathom_shared.db import TenantUnitOfWork
from tests.integration.test_audit_time_travel import reports, story  # noqa: F401  (fixtures)
from tests.support import bearer, token_for

PAST = "/v1/classes/4A/analysis?as_of=18"


def test_a_kept_past_view_is_the_fresh_replay_and_revalidates(reports, story, settings, app_engine):  # noqa: F811
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"))
    bodies = reports.application.extensions[BODIES_EXTENSION]
    hits = bodies.hits
    first = reports.get(PAST, headers=leader)
    again = reports.get(PAST, headers=leader)
    assert first.status_code == again.status_code == 200 and bodies.hits == hits + 1
    fresh = create_app(replace(settings, read_cache_bytes=0), app_engine).test_client().get(PAST, headers=leader)
    assert first.get_data() == again.get_data() == fresh.get_data()
    assert first.get_json()["sequence"] == 18
    assert reports.get(PAST, headers={**leader, "If-None-Match": first.headers["ETag"]}).status_code == 304


def test_a_kept_past_view_is_per_caller(reports, story, settings):  # noqa: F811
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"))
    teacher = bearer(token_for(settings, story.trust, ["teacher"], classes=["4A"], sub="t-x"))
    theirs = reports.get(PAST, headers=leader)
    mine = reports.get(PAST, headers={**teacher, "If-None-Match": theirs.headers["ETag"]})
    assert mine.status_code == 200  # not the leader's 304: p2 has moved on, so the teacher's past class lacks them
    assert "p2" in [p["pupil_id"] for p in theirs.get_json()["pupils"]]
    assert "p2" not in [p["pupil_id"] for p in mine.get_json()["pupils"]]
    assert mine.headers["ETag"] != theirs.headers["ETag"]
    other = bearer(token_for(settings, story.trust, ["teacher"], classes=["4B"], sub="t-y"))
    assert reports.get(PAST, headers={**other, "If-None-Match": theirs.headers["ETag"]}).status_code == 403


def test_a_rename_today_changes_a_kept_past_view(reports, story, settings, app_engine):  # noqa: F811
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"))
    before = reports.get(PAST, headers=leader)
    with TenantUnitOfWork(app_engine, story.trust) as uow:  # a personal-details change: no event
        uow.connection.execute(text("UPDATE pupil_personal SET family_name = 'Renamed' WHERE pupil_id = 'p1'"))
        uow.commit()
    after = reports.get(PAST, headers=leader)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert any(p["name"] and p["name"].endswith("Renamed") for p in after.get_json()["pupils"])
