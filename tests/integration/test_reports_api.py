"""The reports service against a real PostgreSQL, with read-model rows inserted as the projector would.

Covers exact Class Analysis numbers through HTTP, the subject and group filters, tenant and
role isolation (404 / 403 / 401), input validation, the freshness contract (wait for a
sequence, 503 when it is not reached in time), the operations routes and the latency budget.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from joserfc import jwt
from marshmallow import RAISE
from sqlalchemy import Engine, event, text

from fathom_reports import create_app
from fathom_reports.http.class_analysis import STORE_EXTENSION
from fathom_reports.http.registrar import NOT_CAUGHT_UP
from fathom_reports.loading.freshness import listener_for
from fathom_reports.responses import BODIES_EXTENSION
from fathom_reports.schemas.class_analysis import ClassAnalysisSchema
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.notifications import PROJECTED, READ_WAITING, conninfo_for
from fathom_shared.read_models.band_counts import refresh_all as recount_classes
from tests.support import bearer, token_for

EDSM_BANDS = [
    {"value": 1, "label": "Emerging", "secure": False},
    {"value": 2, "label": "Developing", "secure": False},
    {"value": 3, "label": "Secure", "secure": True},
    {"value": 4, "label": "Mastery", "secure": True},
]
WAIT = 10.0  # upper bound for any condition a test waits on; never a sleep


@dataclass
class ReadModelSeed:
    """Collects rows, then writes them in one tenant transaction."""

    trust: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, **row: Any) -> ReadModelSeed:
        self.rows.setdefault(table, []).append(row)
        return self

    def school(self, school_id: str, name: str | None = None) -> ReadModelSeed:
        name = school_id.title() if name is None else name
        return self.add("schools", school_id=school_id, name=name).add("rm_schools", school_id=school_id, name=name)

    def klass(self, class_id: str, school_id: str, year_group: int = 4, name: str | None = None) -> ReadModelSeed:
        row = {"class_id": class_id, "school_id": school_id, "name": class_id.upper() if name is None else name,
               "year_group": year_group, "academic_year": "2026-27"}
        return self.add("classes", **row).add("rm_classes", **row)

    def pupil(self, pupil_id: str, school_id: str, class_id: str | None, year_group: int = 4,
              name: tuple[str, str] | None = None, left_on: date | None = None, erased: bool = False,
              **groups: Any) -> ReadModelSeed:
        all_groups = {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False,
                      **groups}
        row = {"pupil_id": pupil_id, "school_id": school_id, "class_id": class_id, "year_group": year_group,
               "groups": json.dumps(all_groups), "left_on": left_on, "erased": erased}
        self.add("pupils", **row).add("rm_pupils", **row)
        if name:
            self.add("pupil_personal", pupil_id=pupil_id, given_name=name[0], family_name=name[1])
        return self

    def scale(self, scale_id: str, bands: list[Mapping[str, Any]] = EDSM_BANDS) -> ReadModelSeed:
        return self.add("rm_scales", scale_id=scale_id, name=scale_id.upper(), bands=json.dumps(bands))

    def objective(self, objective_id: str, code: str, subject: str, scale_id: str, year_group: int = 4,
                  retired: bool = False) -> ReadModelSeed:
        return self.add("rm_objectives", objective_id=objective_id, code=code, subject=subject,
                        year_group=year_group, strand=None, text=f"{subject} objective {code}", weight=None,
                        scale_id=scale_id, retired=retired)

    def judgement(self, pupil_id: str, objective_id: str, value: int, on: date = date(2026, 10, 5),
                  source: str = "teacher", note: str | None = None) -> ReadModelSeed:
        sequence = len(self.rows.get("rm_pupil_objective", [])) + 1
        return self.add("rm_pupil_objective", pupil_id=pupil_id, objective_id=objective_id, value=value,
                        assessed_on=on, source=source, note=note,
                        event_id=f"00000000-0000-4000-8000-{sequence:012d}", sequence=sequence)

    def taught(self, class_id: str, objective_id: str, on: date) -> ReadModelSeed:
        return self.add("rm_class_taught", class_id=class_id, objective_id=objective_id, taught_on=on)

    def intervention(self, intervention_id: str, pupil_ids: list[str], objective_ids: list[str],
                     start: date = date(2026, 11, 1), end: date | None = None,
                     outcome: str | None = None) -> ReadModelSeed:
        return self.add("rm_interventions", intervention_id=intervention_id, name=intervention_id.title(),
                        lead="Ms Rae", start_date=start, pupil_ids=json.dumps(pupil_ids),
                        objective_ids=json.dumps(objective_ids), end_date=end, outcome=outcome)

    def recorded(self, pupil_id: str, objective_id: str, value: int, on: date, source: str = "teacher",
                 status: str = "recorded", original: int | None = None, reason: str | None = None,
                 recorded_by: str = "t-rae", amended_by: str | None = None) -> ReadModelSeed:
        """An ``rm_judgements`` row: a recording, maybe corrected (``original`` was its first value) or withdrawn."""
        sequence = 1000 + len(self.rows.get("rm_judgements", []))
        return self.add("rm_judgements", judgement_id=f"00000000-0000-4000-9000-{sequence:012d}",
                        pupil_id=pupil_id, objective_id=objective_id, class_id=None, source=source, value=value,
                        original_value=value if original is None else original, assessed_on=on, note=None,
                        recorded_by=recorded_by, sequence=sequence, status=status,
                        amended_sequence=None if status == "recorded" else sequence + 500,
                        amended_by=amended_by, reason=reason)

    def spell(self, pupil_id: str, class_id: str, start: date, end: date | None = None) -> ReadModelSeed:
        return self.add("rm_pupil_classes", pupil_id=pupil_id, class_id=class_id, from_date=start, to_date=end)

    def score(self, pupil_id: str, test: str, subject: str, score: int, on: date) -> ReadModelSeed:
        n = len(self.rows.get("rm_scores", [])) + 1
        return self.add("rm_scores", score_id=f"00000000-0000-4000-a000-{n:012d}", pupil_id=pupil_id, test=test,
                        subject=subject, score=score, taken_on=on, sequence=2000 + n)

    def settings(self, **settings: Any) -> ReadModelSeed:
        return self.add("rm_trust_settings", **settings)

    def write(self, engine: Engine, last_applied: int | None = None) -> None:
        order = ["schools", "rm_schools", "classes", "rm_classes", "pupils", "rm_pupils", "pupil_personal",
                 "rm_scales", "rm_objectives", "rm_pupil_objective", "rm_class_taught", "rm_interventions",
                 "rm_judgements", "rm_pupil_classes", "rm_scores", "rm_trust_settings"]
        with TenantUnitOfWork(engine, self.trust) as uow:
            for table in order:
                rows = self.rows.get(table)
                if rows:
                    columns = list(rows[0])
                    uow.connection.execute(text(
                        f"INSERT INTO {table} (trust_id, {', '.join(columns)}) "
                        f"VALUES (:trust_id, {', '.join(':' + c for c in columns)})"),
                        [{"trust_id": self.trust, **row} for row in rows])
            recount_classes(uow.connection, self.trust)  # the projector keeps them beside the rows it writes
            if last_applied is not None:
                set_position(uow.connection, self.trust, last_applied)
            uow.commit()
        self.rows.clear()


def set_position(connection: Any, trust: str, last_applied: int) -> None:
    connection.execute(text("UPDATE rm_positions SET last_applied = :n, updated_at = now() WHERE trust_id = :t"),
                       {"n": last_applied, "t": trust})
    set_head(connection, trust, last_applied)


def set_head(connection: Any, trust: str, sequence: int) -> None:
    """The event store's head as if ``sequence`` events were written: a read model never runs ahead of it."""
    connection.execute(text("UPDATE trust_heads SET last_sequence = greatest(last_sequence, :n) WHERE trust_id = :t"),
                       {"n": sequence, "t": trust})


def notify_projected(engine: Engine, trust: str, last_applied: int) -> None:
    """What the projector does after committing a batch."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                           {"channel": PROJECTED, "payload": f"{trust}:{last_applied}"})


# --- fixtures -----------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def projection_listener_stopped_afterwards(settings):
    """The listener is a process-wide daemon thread: stop it before the test database goes away."""
    yield
    listener_for(settings.app_database_url).stop()


@pytest.fixture
def client(settings, app_engine):
    return create_app(settings, app_engine).test_client()


@pytest.fixture
def auth(settings, trust):
    def headers(*roles: str, trust_id: str = trust, schools: Iterable[str] = (),
                classes: Iterable[str] = ()) -> dict[str, str]:
        return bearer(token_for(settings, trust_id, roles, schools=schools, classes=classes))

    return headers


@pytest.fixture
def class_4a(app_engine, trust) -> str:
    """Class 4A at school north: 5 current pupils (one erased) and a leaver, 2 maths + 1 English Year 4
    objectives, teacher judgements plus a moderator's and a pupil's own, history around them."""
    (ReadModelSeed(trust)
     .school("north").school("south")
     .klass("4a", "north").klass("4b", "north").klass("5a", "south", year_group=5)
     .pupil("p1", "north", "4a", name=("Ada", "Lovelace"), pupil_premium=True, gender="female", more_able=True)
     .pupil("p2", "north", "4a", name=("Ben", "Okri"), sen="support", eal=True, gender="male")
     .pupil("p3", "north", "4a", name=("Cy", "Erased"), erased=True, pupil_premium=True, sen="ehcp",
            gender="female")                                              # erased: never named, still counted
     .pupil("p6", "north", "4a", name=("Lee", "Leaver"), left_on=date(2026, 10, 20))  # left: not counted
     .pupil("p4", "north", "4a", name=("Dev", "Patel"), eal=True)
     .pupil("p5", "north", "4a", name=("Eve", "Ng"), custom=["young carer"])
     .pupil("q1", "north", "4b", name=("Other", "Class"), pupil_premium=True)
     .scale("edsm").scale("rag", [{"value": 1, "label": "Red", "secure": False},
                                  {"value": 2, "label": "Amber", "secure": False},
                                  {"value": 3, "label": "Green", "secure": True}])
     .objective("ma1", "MA4.1", "Maths", "edsm").objective("ma2", "MA4.2", "Maths", "edsm")
     .objective("en1", "EN4.1", "English", "rag")
     .objective("ma0", "MA3.9", "Maths", "edsm", year_group=3)          # last year's, taught as revision
     .objective("old", "MA4.0", "Maths", "edsm", retired=True)          # retired, judged before retiring
     .objective("unused", "MA4.9", "Maths", "edsm", retired=True)       # retired, never used: not shown
     .objective("ma5", "MA5.1", "Maths", "edsm", year_group=5)          # another year group: not shown
     .judgement("p1", "ma1", 4).judgement("p2", "ma1", 1).judgement("p3", "ma1", 3)
     .judgement("p4", "ma1", 2)
     .judgement("p4", "ma1", 4, on=date(2026, 10, 9), source="moderator", note="book look")
     .judgement("p1", "ma1", 3, on=date(2026, 10, 6), source="self")
     .judgement("p6", "ma1", 1)
     .judgement("p1", "en1", 3).judgement("p2", "en1", 1)
     .judgement("p5", "old", 2)
     .judgement("q1", "ma2", 4)                                         # another class's pupil
     .taught("4a", "ma1", date(2026, 10, 1)).taught("4a", "ma1", date(2026, 9, 15))
     .taught("4a", "ma0", date(2026, 9, 8)).taught("4b", "ma2", date(2026, 9, 8))
     .intervention("times-tables", ["p2", "q1", "p4"], ["ma1"])
     .intervention("other-class", ["q1"], ["ma2"])
     .write(app_engine, last_applied=40))
    return "4a"


def analysis(client, class_id: str, headers: Mapping[str, str], **query: str):
    return client.get(f"/v1/classes/{class_id}/analysis", headers=dict(headers), query_string=query)


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {objective["objective_id"]: objective for objective in body["objectives"]}


# --- the view -------------------------------------------------------------------------

def test_class_analysis_exact_numbers(client, auth, class_4a):
    response = analysis(client, class_4a, auth("trust_leader"))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    ClassAnalysisSchema().load(body, unknown=RAISE)  # the documented schema is the real shape

    assert body["class"] == {"id": "4a", "name": "4A", "school_id": "north", "year_group": 4,
                             "academic_year": "2026-27"}
    assert body["sequence"] == 40
    assert body["filters"] == {"subject": None, "group": None, "source": "teacher", "from": None, "to": None}
    # The leaver p6 is gone; the erased p3 is still counted, last and without a name.
    assert [(p["pupil_id"], p["name"], p["erased"]) for p in body["pupils"]] == [
        ("p1", "Ada Lovelace", False), ("p5", "Eve Ng", False), ("p2", "Ben Okri", False),
        ("p4", "Dev Patel", False), ("p3", None, True)]
    assert body["pupils"][2]["groups"] == {"pupil_premium": False, "sen": "support", "eal": True,
                                           "gender": "male", "more_able": False}

    # Year 4's current objectives, plus last year's one taught to the class and the retired one judged.
    assert [o["code"] for o in body["objectives"]] == ["EN4.1", "MA3.9", "MA4.0", "MA4.1", "MA4.2"]
    objectives = by_id(body)
    ma1 = objectives["ma1"]
    assert ma1["scale"] == {"scale_id": "edsm", "name": "EDSM", "bands": EDSM_BANDS}
    assert [(c["label"], c["count"]) for c in ma1["counts"]] == [
        ("Emerging", 1), ("Developing", 1), ("Secure", 1), ("Mastery", 1)]
    assert (ma1["assessed"], ma1["not_assessed"], ma1["secure"], ma1["percent_secure"]) == (4, 1, 2, 50.0)
    assert ma1["pupils_not_secure"] == ["p2", "p4"]
    assert ma1["pupils_not_assessed"] == ["p5"]
    assert (ma1["taught"], ma1["taught_dates"]) == (True, ["2026-09-15", "2026-10-01"])

    en1 = objectives["en1"]
    assert [c["count"] for c in en1["counts"]] == [1, 0, 1]
    assert (en1["assessed"], en1["not_assessed"], en1["secure"], en1["percent_secure"]) == (2, 3, 1, 50.0)
    assert (en1["taught"], en1["taught_dates"]) == (False, [])

    ma2 = objectives["ma2"]  # only another class's pupil was judged, only another class was taught it
    assert (ma2["assessed"], ma2["not_assessed"], ma2["percent_secure"], ma2["taught"]) == (0, 5, None, False)
    assert [c["count"] for c in ma2["counts"]] == [0, 0, 0, 0]
    assert (objectives["ma0"]["taught_dates"], objectives["ma0"]["assessed"]) == (["2026-09-08"], 0)
    assert (objectives["old"]["retired"], objectives["old"]["assessed"], objectives["old"]["pupils_not_secure"]) \
        == (True, 1, ["p5"])

    cells = {row["pupil_id"]: row["cells"] for row in body["heat_map"]}
    assert [row["pupil_id"] for row in body["heat_map"]] == ["p1", "p5", "p2", "p4", "p3"]
    assert cells["p4"] == {"ma1": {"value": 2, "label": "Developing", "secure": False,
                                   "assessed_on": "2026-10-05", "source": "teacher"}}
    assert set(cells["p1"]) == {"ma1", "en1"}
    assert cells["p3"] == {"ma1": {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-10-05",
                                   "source": "teacher"}}

    assert body["interventions"] == [{
        "intervention_id": "times-tables", "name": "Times-Tables", "lead": "Ms Rae", "start_date": "2026-11-01",
        "pupil_ids": ["p2", "p4"], "objective_ids": ["ma1"]}]


def test_pupils_are_listed_as_a_register_reads_not_by_code_point(client, auth, app_engine, trust):
    """The database orders by code point (every capital before "a", "Ç" after "z"); a register does not.

    The test servers' collation (C.UTF-8) is such an order, so the old ``ORDER BY family_name`` fails
    here; under a linguistic collation it would pass either way, and ``tests/unit/test_reading_order.py``
    guards the rule itself."""
    seed = ReadModelSeed(trust).school("north").klass("4c", "north")
    for pupil_id, name in [("r1", ("Ann", "Zimmer")), ("r2", ("Rui", "de Souza")), ("r3", ("Ece", "Çelik")),
                           ("r4", ("Bo", "adams")), ("r5", ("Zoe", "Ábel"))]:
        seed.pupil(pupil_id, "north", "4c", name=name)
    seed.write(app_engine, last_applied=1)
    response = analysis(client, "4c", auth("trust_leader"))
    assert response.status_code == 200, response.get_json()
    assert [p["name"] for p in response.get_json()["pupils"]] == [
        "Zoe Ábel", "Bo adams", "Ece Çelik", "Rui de Souza", "Ann Zimmer"]


@pytest.mark.parametrize(("source", "ma1_counts", "cells"), [
    ("moderator", [0, 0, 0, 1], {"p4": {"ma1": {"value": 4, "label": "Mastery", "secure": True,
                                                "assessed_on": "2026-10-09", "source": "moderator"}}}),
    ("self", [0, 0, 1, 0], {"p1": {"ma1": {"value": 3, "label": "Secure", "secure": True,
                                           "assessed_on": "2026-10-06", "source": "self"}}}),
])
def test_source_shows_only_that_sources_judgements(client, auth, class_4a, source, ma1_counts, cells):
    body = analysis(client, class_4a, auth("trust_leader"), source=source).get_json()
    assert body["filters"]["source"] == source
    ma1 = by_id(body)["ma1"]
    assert [c["count"] for c in ma1["counts"]] == ma1_counts
    assert (ma1["assessed"], ma1["not_assessed"], ma1["percent_secure"], ma1["small_group"]) == (1, 4, 100.0, True)
    assert {row["pupil_id"]: row["cells"] for row in body["heat_map"] if row["cells"]} == cells
    assert by_id(body)["en1"]["assessed"] == 0


def test_subject_filter(client, auth, class_4a):
    body = analysis(client, class_4a, auth("trust_leader"), subject="English").get_json()
    assert body["filters"] == {"subject": "English", "group": None, "source": "teacher", "from": None, "to": None}
    assert [o["objective_id"] for o in body["objectives"]] == ["en1"]
    assert {oid for row in body["heat_map"] for oid in row["cells"]} == {"en1"}
    assert analysis(client, class_4a, auth("trust_leader"), subject="Science").get_json()["objectives"] == []


@pytest.mark.parametrize(("group", "pupils", "ma1_counts", "ma1_percent"), [
    ("pupil_premium", ["p1", "p3"], [0, 0, 1, 1], 100.0),
    ("sen", ["p2", "p3"], [1, 0, 1, 0], 50.0),
    ("eal", ["p2", "p4"], [1, 1, 0, 0], 0.0),
    ("female", ["p1", "p3"], [0, 0, 1, 1], 100.0),
    ("more_able", ["p1"], [0, 0, 0, 1], 100.0),
    ("sen_none", ["p1", "p5", "p4"], [0, 1, 0, 1], 50.0),
])
def test_group_filter_counts_only_that_group(client, auth, class_4a, group, pupils, ma1_counts, ma1_percent):
    body = analysis(client, class_4a, auth("trust_leader"), group=group).get_json()
    assert body["filters"]["group"] == group
    assert [p["pupil_id"] for p in body["pupils"]] == pupils
    ma1 = by_id(body)["ma1"]
    assert [c["count"] for c in ma1["counts"]] == ma1_counts
    assert ma1["percent_secure"] == ma1_percent
    assert ma1["assessed"] + ma1["not_assessed"] == len(pupils)


def test_custom_group_filter(client, auth, class_4a):
    body = analysis(client, class_4a, auth("trust_leader"), group="custom:young carer").get_json()
    assert [p["pupil_id"] for p in body["pupils"]] == ["p5"]
    assert by_id(body)["old"]["pupils_not_secure"] == ["p5"]
    assert analysis(client, class_4a, auth("trust_leader"), group="custom:nobody").get_json()["pupils"] == []


def test_gaps_and_suggested_groups_follow_the_trusts_settings(client, auth, app_engine, trust, class_4a):
    body = analysis(client, class_4a, auth("trust_leader")).get_json()
    assert body["settings"]["secure_target_percent"] == 70  # no settings row: the defaults
    assert [g["code"] for g in body["gaps"]["taught_not_assessed"]] == ["MA3.9"]
    assert [(g["code"], g["assessed"], g["percent_secure"], g["small_group"])
            for g in body["gaps"]["below_target"]] == [
        ("EN4.1", 2, 50.0, True), ("MA4.0", 1, 0.0, True), ("MA4.1", 4, 50.0, True)]
    # Not secure: EN4.1 {p2}, MA4.0 {p5}, MA4.1 {p2, p4}: only MA4.1 makes a group of two.
    assert [(g["pupil_ids"], [o["code"] for o in g["objectives"]]) for g in body["suggested_groups"]] == [
        (["p2", "p4"], ["MA4.1"])]

    with TenantUnitOfWork(app_engine, trust) as uow:  # as the projector applies it: with its position
        uow.connection.execute(text(
            "INSERT INTO rm_trust_settings (trust_id, secure_target_percent, small_group_threshold) "
            "VALUES (:t, 40, 2)"), {"t": trust})
        set_position(uow.connection, trust, 41)
        uow.commit()
    body = analysis(client, class_4a, auth("trust_leader")).get_json()
    assert [(g["code"], g["small_group"]) for g in body["gaps"]["below_target"]] == [("MA4.0", True)]
    assert (by_id(body)["ma1"]["small_group"], by_id(body)["en1"]["small_group"]) == (False, False)
    assert body["suggested_groups"] == []


def test_group_filter_with_no_members_gives_empty_counts(client, auth, class_4a):
    body = analysis(client, class_4a, auth("trust_leader"), group="sen_ehcp", subject="English").get_json()
    assert [p["pupil_id"] for p in body["pupils"]] == ["p3"]
    assert by_id(body)["en1"]["percent_secure"] is None
    assert body["interventions"] == []


# --- who may read what ------------------------------------------------------------------

def test_every_reader_role_of_the_trust_may_read(client, auth, class_4a):
    for role in ("trust_leader", "auditor", "integration", "platform_admin"):
        assert analysis(client, class_4a, auth(role)).status_code == 200, role
    assert analysis(client, class_4a, auth("teacher", classes=["4a"])).status_code == 200
    assert analysis(client, class_4a, auth("school_leader", schools=["north"])).status_code == 200


def test_teacher_of_another_class_is_forbidden(client, auth, class_4a):
    response = analysis(client, class_4a, auth("teacher", classes=["4b"]))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert analysis(client, class_4a, auth("teacher", schools=["north"])).status_code == 403


def test_school_leader_of_another_school_is_forbidden(client, auth, class_4a):
    response = analysis(client, class_4a, auth("school_leader", schools=["south"]))
    assert response.status_code == 403
    assert response.get_json()["status"] == 403


def test_another_trusts_class_is_indistinguishable_from_no_class(client, auth, make_trust, app_engine, class_4a):
    other = make_trust("other")
    ReadModelSeed(other).school("west").klass("9z", "west").write(app_engine, last_applied=3)
    # The other trust's own leader sees it; ours gets the same 404 as for an id that exists nowhere.
    assert analysis(client, "9z", auth("trust_leader", trust_id=other)).status_code == 200
    foreign = analysis(client, "9z", auth("trust_leader"))
    missing = analysis(client, "no-such-class", auth("trust_leader"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.mimetype == missing.mimetype == "application/problem+json"
    foreign_body, missing_body = foreign.get_json(), missing.get_json()
    assert foreign_body.pop("instance") != missing_body.pop("instance")
    assert foreign_body == missing_body == {"type": "about:blank", "title": "Not Found", "status": 404,
                                            "detail": "There is no such class."}
    # A teacher or school leader naming the other trust's ids still gets 404, not 403.
    assert analysis(client, "9z", auth("teacher", classes=["9z"])).status_code == 404
    assert analysis(client, "4a", auth("trust_leader", trust_id=other)).status_code == 404


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer not-a-jwt"},
])
def test_missing_or_malformed_token_is_401(client, class_4a, headers):
    response = analysis(client, class_4a, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_wrong_audience_and_unknown_trust_tokens_are_401(client, settings, trust, class_4a):
    key = load_or_create_signing_key(settings.signing_key_path)
    common = {"issuer": settings.jwt_issuer, "roles": ["trust_leader"], "sub": "tester"}
    tokens = [
        mint_token(key, audience=settings.jwt_audience, trust=trust, ttl_seconds=-3600, **common),
        mint_token(key, audience="someone-else", trust=trust, **common),
        mint_token(key, audience=settings.jwt_audience, trust="no-such-trust", **common),
    ]
    for token in tokens:
        assert analysis(client, class_4a, bearer(token)).status_code == 401


def test_token_without_roles_is_401(client, settings, trust, class_4a):
    key = load_or_create_signing_key(settings.signing_key_path)
    now = int(time.time())
    claims = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": "x", "iat": now,
              "exp": now + 60, "jti": "j", "trust": trust, "roles": []}
    token = jwt.encode({"alg": "RS256", "kid": key.thumbprint()}, claims, key)
    assert analysis(client, class_4a, bearer(token)).status_code == 401


# --- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ({"group": "left_handed"}, "group"),
    ({"group": ""}, "group"),
    ({"group": "custom:"}, "group"),
    ({"source": "parent"}, "source"),
    ({"format": "xlsx"}, "format"),
    ({"consistency": "latest"}, "consistency"),
    ({"consistency": "at_least:"}, "consistency"),
    ({"consistency": "at_least:-3"}, "consistency"),
    ({"consistency": "at_least:12x"}, "consistency"),
    ({"consistency": "at_most:5"}, "consistency"),
    ({"as_of": "someday"}, "as_of"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"from": "2026-10-02", "to": "2026-10-01"}, "to"),
    ({"table": "pupils"}, "table"),
])
def test_bad_query_arguments_are_problems_naming_the_field(client, auth, class_4a, query, field):
    response = analysis(client, class_4a, auth("trust_leader"), **query)
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert any(key.split(".")[-1] == field for key in errors), errors


# --- freshness ------------------------------------------------------------------------

def test_listener_wakes_waiters_on_a_notification(settings, app_engine, trust):
    listener = listener_for(settings.app_database_url)
    assert listener.wait_listening(WAIT)
    seen = listener.notified(trust)
    woke = threading.Event()
    waiter = threading.Thread(target=lambda: listener.wait(trust, 7, seen, WAIT) and woke.set())
    waiter.start()
    notify_projected(app_engine, trust, 7)
    waiter.join(WAIT)
    assert woke.is_set()
    assert listener.notified(trust) == 7


def test_listener_reconnects_after_losing_its_connection(settings, owner_engine, app_engine, trust):
    listener = listener_for(settings.app_database_url)
    assert listener.wait_listening(WAIT)
    sessions = listener.sessions
    with owner_engine.begin() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query = :listen AND pid <> pg_backend_pid()"), {"listen": f"LISTEN {PROJECTED}"}).scalar()
    assert killed >= 1
    assert listener.wait_listening(WAIT, after_sessions=sessions)
    seen = listener.notified(trust)
    notify_projected(app_engine, trust, seen + 5)
    assert listener.wait(trust, seen + 5, seen, WAIT)


def test_consistency_waits_for_the_sequence_then_shows_the_new_data(client, auth, settings, app_engine, trust,
                                                                   class_4a):
    store = client.application.extensions[STORE_EXTENSION]
    listener = listener_for(settings.app_database_url)
    assert listener.wait_listening(WAIT)
    polled_behind = threading.Event()
    read_position = store.position

    def observed_position(trust_id: str) -> int:
        position = read_position(trust_id)
        if position < 41:
            polled_behind.set()
        return position

    store.position = observed_position
    with TenantUnitOfWork(app_engine, trust) as uow:  # the write of sequence 41 is committed, not yet projected
        set_head(uow.connection, trust, 41)
        uow.commit()
    answers: list[Any] = []
    request = threading.Thread(target=lambda: answers.append(
        analysis(client, class_4a, auth("teacher", classes=["4a"]), consistency="at_least:41")))
    started = time.monotonic()
    request.start()
    assert polled_behind.wait(WAIT), "the request never looked at the position"

    def project() -> None:
        """The projector: apply sequence 41 (a new judgement for p5) and the position together, then notify."""
        ReadModelSeed(trust).judgement("p5", "ma1", 3, on=date(2026, 11, 3)).write(app_engine, last_applied=41)
        notify_projected(app_engine, trust, 41)

    projector = threading.Thread(target=project)
    projector.start()
    projector.join(WAIT)
    request.join(WAIT)
    elapsed = time.monotonic() - started
    assert not request.is_alive()
    (response,) = answers
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["sequence"] == 41
    ma1 = by_id(body)["ma1"]
    assert (ma1["assessed"], ma1["secure"], ma1["percent_secure"], ma1["pupils_not_assessed"]) == (5, 3, 60.0, [])
    assert elapsed < store.consistency_timeout_s


def test_consistency_already_reached_answers_at_once(client, auth, class_4a):
    response = analysis(client, class_4a, auth("trust_leader"), consistency="at_least:40")
    assert response.status_code == 200
    assert response.get_json()["sequence"] == 40


def test_a_sequence_never_reached_is_503_within_the_timeout(settings, app_engine, auth, trust, class_4a):
    client = create_app(replace(settings, consistency_timeout_s=1), app_engine).test_client()
    with TenantUnitOfWork(app_engine, trust) as uow:  # written, but the projector is far behind
        set_head(uow.connection, trust, 1000)
        uow.commit()
    started = time.monotonic()
    response = analysis(client, class_4a, auth("trust_leader"), consistency="at_least:1000")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    detail = response.get_json()["detail"]
    assert "behind" in detail and "40" in detail and "1000" in detail
    # Waits the full second, then answers: one last position read and the request's own work.
    assert 1.0 <= elapsed < 2.0


def test_a_read_that_waits_asks_the_projector_for_its_trust_once(settings, app_engine, auth, trust, class_4a):
    """``fathom_read_waiting`` on the primary, where the projectors listen: they then apply the trust from the
    event store instead of after whatever the broker holds before its messages."""
    client = create_app(replace(settings, consistency_timeout_s=1), app_engine).test_client()
    with TenantUnitOfWork(app_engine, trust) as uow:  # written, but the projector is far behind
        set_head(uow.connection, trust, 1000)
        uow.commit()
    with psycopg.connect(conninfo_for(settings.app_database_url), autocommit=True) as listening:
        listening.execute(f"LISTEN {READ_WAITING}")
        assert analysis(client, class_4a, auth("trust_leader"), consistency="at_least:40").status_code == 200
        assert analysis(client, class_4a, auth("trust_leader"), consistency="at_least:1000").status_code == 503
        heard = [n.payload for n in listening.notifies(timeout=1.0) if n.channel == READ_WAITING]
    assert heard == [f"{trust}:1000"]  # the read already served asked nothing


def test_a_sequence_no_write_has_is_refused_at_once_naming_consistency(settings, app_engine, auth, trust, class_4a):
    """A wait that can never be satisfied (beyond the trust's head in the event store) must not hold a worker
    for the whole timeout: before this, it answered 503 only after ``consistency_timeout_s``."""
    client = create_app(replace(settings, consistency_timeout_s=30), app_engine).test_client()
    started = time.monotonic()
    response = analysis(client, class_4a, auth("teacher", classes=["4a"]), consistency="at_least:999999999")
    elapsed = time.monotonic() - started
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert list(problem["errors"]) == ["query.consistency"]
    assert "40" in problem["errors"]["query.consistency"][0]  # the trust's last sequence
    assert elapsed < 10  # not the 30 s timeout


# --- operations -----------------------------------------------------------------------

def test_operations_routes(client, auth, class_4a):
    assert client.get("/healthz").get_json() == {"status": "ok", "service": "reports"}
    assert client.get("/readyz").get_json() == {"status": "ready", "service": "reports"}
    analysis(client, class_4a, auth("trust_leader"))
    assert client.get("/metrics").status_code == 404  # on the operations port only (test_operations_port.py)
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/v1/classes/{class_id}/analysis"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} >= {
        "subject", "group", "source", "consistency", "format"}
    group = next(p for p in operation["parameters"] if p["name"] == "group")
    assert "pupil_premium" in group["schema"]["examples"]
    assert {"200", "401", "403", "404", "422", "503"} <= set(operation["responses"])
    assert "ClassAnalysis" in spec["components"]["schemas"]


def test_every_read_that_takes_consistency_documents_its_503(client):
    spec = client.get("/openapi.json").get_json()
    waiting = {f"{method} {path}": operation["responses"].get("503", {}).get("description")
               for path, operations in spec["paths"].items() for method, operation in operations.items()
               if method != "parameters"  # the path's own parameters, beside its operations
               and any(p["name"] == "consistency" for p in operation.get("parameters", []))}
    assert "get /v1/directory" in waiting
    assert {name: text for name, text in waiting.items() if text != NOT_CAUGHT_UP} == {}


# --- latency --------------------------------------------------------------------------

@pytest.fixture
def class_6x(app_engine, trust) -> str:
    """A big class: 30 pupils, 100 objectives, every pupil judged on every objective, all taught."""
    seed = ReadModelSeed(trust).school("big").klass("6x", "big", year_group=6).scale("edsm")
    pupils = [f"pupil-{n:02d}" for n in range(30)]
    for n, pupil in enumerate(pupils):
        seed.pupil(pupil, "big", "6x", year_group=6, name=(f"Given{n}", f"Family{n}"),
                   pupil_premium=n % 3 == 0, sen=("none", "support", "ehcp")[n % 3])
    objectives = [f"obj-{n:03d}" for n in range(100)]
    for n, objective in enumerate(objectives):
        seed.objective(objective, f"Y6.{n:03d}", ("Maths", "English", "Science")[n % 3], "edsm", year_group=6)
        seed.taught("6x", objective, date(2026, 9, 1) + timedelta(days=n))
    for p, pupil in enumerate(pupils):
        for o, objective in enumerate(objectives):
            seed.judgement(pupil, objective, 1 + (p + o) % 4, on=date(2026, 10, 1) + timedelta(days=o % 20))
    for n in range(5):
        seed.intervention(f"boost-{n}", pupils[n::5], objectives[n::20])
    seed.write(app_engine, last_applied=3135)
    return "6x"


def test_a_big_class_costs_one_query_per_table(client, auth, app_engine, class_6x):
    headers = auth("teacher", classes=[class_6x])
    analysis(client, class_6x, headers)  # caches the trust's status
    client.application.extensions[BODIES_EXTENSION].clear()  # measure a body rendered afresh, not a kept one
    statements: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(app_engine, "before_cursor_execute", record)
    try:
        body = analysis(client, class_6x, headers).get_json()
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert len(body["objectives"]) == 100 and len(body["heat_map"]) == 30
    assert sum(len(row["cells"]) for row in body["heat_map"]) == 3000
    # set the trust, the access check (the caller's staff assignments, the class's school), the kept body's key
    # (position, head, the pupils' names digest), then one query per table
    assert len(statements) <= 15, statements
