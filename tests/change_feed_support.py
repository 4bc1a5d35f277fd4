"""Helpers the change-feed tests share: a trust's history that touches every kind of row change,
and notices folded into the state a consumer would hold."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, StoredEvent, append_events, read_events

META = {"sub": "change-feed-test"}
MODEL_TABLES = ("rm_schools", "rm_classes", "rm_pupils", "rm_pupil_classes", "rm_scales", "rm_objectives",
                "rm_judgements", "rm_pupil_objective", "rm_class_taught", "rm_interventions", "rm_scores",
                "rm_trust_settings")
BANDS = [{"value": v, "label": label, "secure": v >= 3}
         for v, label in enumerate(["Emerging", "Developing", "Secure", "Mastery"], start=1)]


def roster(pupils: int = 3) -> list[NewEvent]:
    events = [
        NewEvent("school", "s1", "SchoolCreated", {"school_id": "s1", "name": "Oak Primary"}),
        NewEvent("class", "c1", "ClassCreated", {"class_id": "c1", "school_id": "s1", "name": "4B",
                                                "year_group": 4, "academic_year": "2026-27"}),
        NewEvent("class", "c2", "ClassCreated", {"class_id": "c2", "school_id": "s1", "name": "4C",
                                                "year_group": 4, "academic_year": "2026-27"}),
        NewEvent("scale", "eds", "ScaleDefined", {"scale_id": "eds", "name": "EDSM", "bands": BANDS}),
    ]
    events += [NewEvent("pupil", f"p{i}", "PupilRegistered", {
        "pupil_id": f"p{i}", "school_id": "s1", "class_id": "c1", "year_group": 4,
        "groups": {"pupil_premium": i % 2 == 0}}) for i in range(pupils)]
    events += [NewEvent("objective", f"o{i}", "ObjectiveDefined", {
        "objective_id": f"o{i}", "code": f"MA4-{i}", "subject": "maths", "year_group": 4,
        "text": f"Objective {i}", "scale_id": "eds"}) for i in range(2)]
    return events


def judgement(pupil: str, objective: str, value: int, on: date) -> NewEvent:
    return NewEvent("pupil", pupil, "JudgementRecorded", {
        "pupil_id": pupil, "objective_id": objective, "value": value, "assessed_on": on.isoformat(),
        "source": "teacher", "note": None})


def append(engine: Engine, trust: str, events: list[NewEvent]) -> list[StoredEvent]:
    with TenantUnitOfWork(engine, trust) as uow:
        stored = append_events(uow.connection, trust, events, META)
        uow.commit()
    return stored


def append_history(engine: Engine, trust: str, pupils: int = 3) -> list[StoredEvent]:
    """Roster, judgements, a correction, a withdrawal that empties a cell, teaching, a move, an
    intervention, an identical re-registration (no change) and a rollup change: every kind of notice."""
    day = date(2026, 10, 1)
    append(engine, trust, roster(pupils))
    recorded = append(engine, trust, [judgement(f"p{i}", f"o{k}", 1 + (i + k) % 4, day + timedelta(days=k))
                                      for i in range(pupils) for k in range(2)])
    first, second = recorded[0], recorded[1]
    append(engine, trust, [
        NewEvent("pupil", "p0", "JudgementCorrected", {
            "judgement_id": str(first.event_id), "pupil_id": "p0", "objective_id": "o0", "value": 4,
            "reason": "typo"}),
        NewEvent("pupil", "p0", "JudgementWithdrawn", {
            "judgement_id": str(second.event_id), "pupil_id": "p0", "objective_id": "o1", "reason": "wrong pupil"}),
        NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o0",
                                                   "taught_on": day.isoformat()}),
        NewEvent("pupil", "p1", "PupilMoved", {"pupil_id": "p1", "class_id": "c2", "year_group": 4,
                                              "moved_on": (day + timedelta(days=3)).isoformat()}),
        NewEvent("intervention", "i1", "InterventionStarted", {
            "intervention_id": "i1", "name": "Times tables", "lead": "t1", "start_date": day.isoformat(),
            "pupil_ids": ["p0", "p2"], "objective_ids": ["o1"]}),
        NewEvent("pupil", "p2", "PupilGroupsChanged", {"pupil_id": "p2", "groups": {"pupil_premium": True}}),
        judgement("p2", "o1", 3, day + timedelta(days=9)),
        NewEvent("trust", trust, "RollupMethodChanged", {"method": "highest", "n": None}),
    ])
    with TenantUnitOfWork(engine, trust) as uow:
        return read_events(uow.connection)


def notices(engine: Engine, trust: str, after: int = 0) -> list[dict[str, Any]]:
    with TenantUnitOfWork(engine, trust) as uow:
        return [dict(row._mapping) for row in uow.connection.execute(text(
            "SELECT notice_id, model, keys, sequence, data FROM change_notices WHERE notice_id > :after "
            "ORDER BY notice_id"), {"after": after})]


def fold(items: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """What a consumer holds after applying ``items`` in order: (model, keys) → row; deleted rows gone."""
    state: dict[tuple[str, str], Any] = {}
    for notice in items:
        key = (notice["model"], _canonical(notice["keys"]))
        if notice["data"] is None:
            state.pop(key, None)
        else:
            state[key] = notice["data"]
    return state


def read_model_state(engine: Engine, trust: str) -> dict[tuple[str, str], Any]:
    """The read-model tables as the same (model, keys) → row map, rendered to JSON by PostgreSQL as notices are."""
    from fathom_shared.read_models.tables import TABLES

    keys_of = {table.name: table.key for table in TABLES} | {"rm_pupil_objective": ("pupil_id", "objective_id",
                                                                                     "source")}
    state: dict[tuple[str, str], Any] = {}
    with TenantUnitOfWork(engine, trust) as uow:
        for table in MODEL_TABLES:
            for (row,) in uow.connection.execute(text(f"SELECT to_jsonb(t) - 'trust_id' FROM {table} t")):
                keys = {column: row[column] for column in keys_of[table]}
                state[(table.removeprefix("rm_"), _canonical(keys))] = row
    return state


def _canonical(keys: dict[str, Any]) -> str:
    return repr(sorted(keys.items()))


def sse_events(chunks: Iterable[bytes | str]) -> Iterator[dict[str, str]]:
    """Parse a ``text/event-stream`` body into events (``id``, ``event``, ``data``) and comments (``comment``)."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            event: dict[str, str] = {}
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                if name == "":
                    event["comment"] = value.strip()
                else:
                    event[name] = value.removeprefix(" ")
            yield event
