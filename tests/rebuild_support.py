"""A trust history for the rebuild tests, and a comparable snapshot of a trust's read models."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text

from fathom_projector.shadow import MODELS
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, StoredEvent, append_events
from fathom_shared.read_models.tables import CLASS_BAND_COUNTS

PUPILS = [f"p{i}" for i in range(40)]
OBJECTIVES = [f"o{i}" for i in range(8)]
BANDS = [{"value": v, "label": label, "secure": v >= 3} for v, label in
         enumerate(("Emerging", "Developing", "Secure", "Mastery"), start=1)]


def append(engine: Engine, trust_id: str, events: list[NewEvent]) -> list[StoredEvent]:
    with TenantUnitOfWork(engine, trust_id) as uow:
        stored = append_events(uow.connection, trust_id, events, {"sub": "rebuild-test"})
        uow.commit()
    return stored


def roster() -> list[NewEvent]:
    groups = {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False, "custom": []}
    return [
        NewEvent("school", "s1", "SchoolCreated", {"school_id": "s1", "name": "Oak Primary"}),
        *(NewEvent("class", c, "ClassCreated", {"class_id": c, "school_id": "s1", "name": c, "year_group": 4,
                                                "academic_year": "2026-27"}) for c in ("c1", "c2")),
        NewEvent("scale", "eds", "ScaleDefined", {"scale_id": "eds", "name": "EDSM", "bands": BANDS}),
        *(NewEvent("objective", o, "ObjectiveDefined", {
            "objective_id": o, "code": o.upper(), "subject": "maths", "year_group": 4, "text": o, "scale_id": "eds"})
          for o in OBJECTIVES),
        *(NewEvent("pupil", p, "PupilRegistered", {"pupil_id": p, "school_id": "s1", "class_id": f"c{n % 2 + 1}",
                                                   "year_group": 4, "groups": groups})
          for n, p in enumerate(PUPILS)),
    ]


def judgements(rng: random.Random, count: int, note: str | None = None) -> list[NewEvent]:
    return [NewEvent("pupil", pupil, "JudgementRecorded", {
        "pupil_id": pupil, "objective_id": rng.choice(OBJECTIVES), "value": rng.randint(1, 4),
        "assessed_on": (date(2026, 9, 1) + timedelta(days=rng.randrange(90))).isoformat(),
        "source": rng.choice(("teacher", "teacher", "self")), "note": note, "class_id": None})
        for pupil in (rng.choice(PUPILS) for _ in range(count))]


def amendments(rng: random.Random, recorded: list[StoredEvent], count: int) -> list[NewEvent]:
    """Corrections and withdrawals of distinct earlier judgements."""
    events = []
    for original in rng.sample(recorded, count):
        base = {"judgement_id": str(original.event_id), "pupil_id": original.data["pupil_id"],
                "objective_id": original.data["objective_id"], "reason": "marking error"}
        if rng.random() < 0.5:
            events.append(NewEvent("pupil", base["pupil_id"], "JudgementCorrected", {**base, "value": 4}))
        else:
            events.append(NewEvent("pupil", base["pupil_id"], "JudgementWithdrawn", base))
    return events


def history(engine: Engine, trust_id: str, judgement_count: int = 3000, seed: int = 7) -> list[StoredEvent]:
    """Roster, judgements with amendments, a rollup change, taught objectives and one poison event."""
    rng = random.Random(seed)
    stored = append(engine, trust_id, roster())
    recorded: list[StoredEvent] = []
    for _ in range(0, judgement_count, 1000):
        batch = append(engine, trust_id, judgements(rng, 1000))
        recorded += batch
        stored += batch + append(engine, trust_id, amendments(rng, batch, 50))
    stored += append(engine, trust_id, [
        NewEvent("trust", trust_id, "RollupMethodChanged", {"method": "highest", "n": None}),
        NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": "o1", "taught_on": "2026-10-01"}),
        NewEvent("pupil", "p1", "JudgementWithdrawn", {
            "judgement_id": "00000000-0000-0000-0000-000000000000", "pupil_id": "p1", "objective_id": "o1",
            "reason": "no such judgement: a poison event"}),
    ])
    return stored


SNAPSHOT_TABLES = [*MODELS.values(), CLASS_BAND_COUNTS.name, "dead_letters"]


def snapshot(engine: Engine, trust_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row of the trust, sorted; ``dead_letters`` without its wall-clock column."""
    with TenantUnitOfWork(engine, trust_id) as uow:
        tables = {}
        for table in SNAPSHOT_TABLES:
            columns = "sequence, event_id, event_type, reason" if table == "dead_letters" else "*"
            tables[table] = sorted((tuple(r) for r in uow.connection.execute(text(
                f"SELECT {columns} FROM {table} WHERE trust_id = :t"), {"t": trust_id})), key=repr)
        tables["last_applied"] = [uow.connection.execute(text(
            "SELECT last_applied FROM rm_positions WHERE trust_id = :t"), {"t": trust_id}).scalar_one()]
        return tables
