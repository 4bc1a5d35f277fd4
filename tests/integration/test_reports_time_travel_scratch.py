"""Time travel replays into temporary tables: nothing live is written, and nothing outlives the request.

The past view is folded by the read models' own writer into temporary copies of the tables, which shadow
the live ones for the rest of the request's transaction only. So a past read leaves the live read models,
their position and the change feed exactly as they were, and a live read right after it (very likely on the
same pooled connection) sees the live tables again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from fathom_reports.loading.class_analysis import load_class_snapshot
from fathom_reports.loading.pooled import load_pooled_snapshot
from fathom_reports.loading.time_travel import PastReadModels, past_engine
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.views.class_analysis import analyse_class
from fathom_shared.db import TenantUnitOfWork
from tests.integration.audit_story import tell
from tests.support import bearer, rows_of, token_for

LIVE_STATE = {
    "notices": "SELECT count(*) AS n FROM change_notices WHERE trust_id = :t",
    "cells": "SELECT count(*) AS n FROM rm_pupil_objective WHERE trust_id = :t",
    "judgements": "SELECT count(*) AS n FROM rm_judgements WHERE trust_id = :t",
    "position": "SELECT last_applied AS n FROM rm_positions WHERE trust_id = :t",
    "dead_letters": "SELECT count(*) AS n FROM dead_letters WHERE trust_id = :t",
}


@pytest.fixture
def story(client, settings, trust, app_engine):
    told = tell(client, settings, trust)
    rebuild_trust(app_engine, trust)
    return told


def live_state(engine, trust: str) -> dict[str, int]:
    return {name: rows_of(engine, trust, sql, t=trust)[0].n for name, sql in LIVE_STATE.items()}


@pytest.mark.parametrize("path", ["/v1/classes/4A/analysis", "/v1/pupils/p1",
                                  "/v1/schools/sch-1/analysis?year_group=4", "/v1/trust/analysis?year_group=4"])
def test_a_past_view_writes_nothing_live_and_leaves_no_tables_behind(settings, app_engine, story, path):
    reports = create_reports(settings, engine=app_engine).test_client()
    auditor = bearer(token_for(settings, story.trust, ["auditor"], sub="aud-1"))
    before = live_state(app_engine, story.trust)
    live = reports.get(path, headers=auditor).get_json()
    separator = "&" if "?" in path else "?"
    for _ in range(3):
        past = reports.get(f"{path}{separator}as_of=17", headers=auditor)
        assert past.status_code == 200, past.get_json()
        assert past.get_json()["sequence"] == 17
        again = reports.get(path, headers=auditor)
        assert again.get_json() == live
    assert live["sequence"] == before["position"] == 20
    assert live_state(app_engine, story.trust) == before


def test_once_the_scratch_tables_exist_the_transaction_refuses_any_live_write(app_engine, story):
    with TenantUnitOfWork(past_engine(app_engine), story.trust) as uow:
        models = PastReadModels.at(uow.connection, story.trust, AsOf(sequence=17))
        models.prepare_class("4A")
        assert uow.connection.execute(text("SELECT last_applied FROM rm_positions")).scalar() == 17
        with pytest.raises(DBAPIError, match="read-only transaction"):
            uow.connection.execute(text("UPDATE public.rm_positions SET last_applied = 0 WHERE trust_id = :t"),
                                   {"t": story.trust})


def past_view(app_engine: Engine, trust: str, judgements: bool, prepare: Callable[[PastReadModels, bool], None],
              load: Callable[[Connection], object]) -> tuple[list[int], object]:
    """The judgements and cells in the scratch tables after ``prepare(models, judgements)``, and what ``load``
    makes of them."""
    with TenantUnitOfWork(past_engine(app_engine), trust) as uow:
        models = PastReadModels.at(uow.connection, trust, AsOf(sequence=19))
        prepare(models, judgements)
        stored = [uow.connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("rm_judgements", "rm_pupil_objective")]
        return stored, load(uow.connection)


@pytest.mark.parametrize("view", ["class", "year group"])
def test_a_past_view_of_the_cells_alone_leaves_out_the_judgements_it_does_not_read(app_engine, story, view):
    """A Class Analysis without a period and the pooled analyses read the current cells, which are derived from the
    fold's rows: the judgements themselves are not written into the scratch table, and the view comes out the
    same."""
    def prepare(models: PastReadModels, judgements: bool) -> None:
        if view == "class":
            models.prepare_class("4A", judgements=judgements)
        else:
            models.prepare_year_group(4, "sch-1", judgements=judgements)

    def load(connection: Connection) -> object:
        if view == "class":
            return analyse_class(load_class_snapshot(connection, story.trust, "4A", "teacher"))
        return load_pooled_snapshot(connection, story.trust, live=False, year_group=4, school_id="sch-1")

    with_judgements, cells_only = (past_view(app_engine, story.trust, j, prepare, load) for j in (True, False))
    assert with_judgements[0] == [3, 3] and cells_only[0] == [0, 3]  # 16 (corrected by 18), 17 and 19
    assert cells_only[1] == with_judgements[1]


def test_a_past_class_with_a_period_reads_each_judgement_in_it(settings, app_engine, story):
    reports = create_reports(settings, engine=app_engine).test_client()
    auditor = bearer(token_for(settings, story.trust, ["auditor"], sub="aud-1"))
    day = story.assessed_on.isoformat()
    body = reports.get(f"/v1/classes/4A/analysis?as_of=19&from={day}&to={day}", headers=auditor).get_json()
    assessed = {objective["objective_id"]: objective["assessed"] for objective in body["objectives"]}
    assert (body["sequence"], assessed["m4-1"], assessed["m4-2"]) == (19, 2, 1)
