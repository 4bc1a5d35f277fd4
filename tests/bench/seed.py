"""Test data: rosters through the command API, and bulk judgement history straight into the store.

Rosters go through the API because that is the only path that keeps the command-side tables
(which the API validates judgements against) in step with the events. A million judgements
through HTTP would take most of the time budget, so the large history is appended with
:func:`fathom_shared.event_store.append_events` — the function the API itself calls — in big
chunks, giving the same events, sequences and hash chain a client would produce.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any

import requests
from tqdm import tqdm

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events
from tests.bench.system import BenchSystem
from tests.support import DEPTH_BANDS

YEAR_GROUP = 4
CLIENTS = 4


class SeedError(RuntimeError):
    pass


@dataclass
class Roster:
    trust_id: str
    school: str = "school-1"
    classes: dict[str, list[str]] = field(default_factory=dict)
    objectives: list[str] = field(default_factory=list)

    @property
    def pupils(self) -> list[str]:
        return [pupil for pupils in self.classes.values() for pupil in pupils]

    def class_of(self) -> dict[str, str]:
        return {pupil: class_id for class_id, pupils in self.classes.items() for pupil in pupils}


def post(session: requests.Session, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = session.post(url, json=body, timeout=60)
    if response.status_code != 201:
        raise SeedError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def seed_roster(system: BenchSystem, trust_id: str, classes: int, pupils_per_class: int, objectives: int,
                progress: bool = True) -> Roster:
    """One school, ``classes`` Year 4 classes, one scale, ``objectives`` objectives all taught."""
    roster = Roster(trust_id)
    roster.classes = {f"4-{c + 1:03d}": [f"c{c + 1:03d}-p{p + 1:02d}" for p in range(pupils_per_class)]
                      for c in range(classes)}
    roster.objectives = [f"y4-m{n + 1:03d}" for n in range(objectives)]
    api = system.api_url
    session = system.session(trust_id)
    post(session, f"{api}/v1/scales", {"id": "esdm", "name": "Emerging to Mastery", "bands": DEPTH_BANDS})
    post(session, f"{api}/v1/schools", {"id": roster.school, "name": "Bench Primary"})
    requests_ = [("/v1/objectives", {"id": o, "code": f"Y4M{n + 1:03d}", "subject": "maths", "year_group": YEAR_GROUP,
                                     "strand": "number", "text": f"Objective {n + 1}", "scale_id": "esdm"})
                 for n, o in enumerate(roster.objectives)]
    requests_ += [("/v1/classes", {"id": c, "school_id": roster.school, "name": c, "year_group": YEAR_GROUP,
                                   "academic_year": "2026-27"}) for c in roster.classes]
    _post_all(system, trust_id, requests_, f"{trust_id}: framework", progress)
    pupils = [("/v1/pupils", _pupil(roster.school, class_id, pupil, n))
              for class_id, members in roster.classes.items() for n, pupil in enumerate(members)]
    taught_on = (date.today() - timedelta(days=30)).isoformat()
    pupils += [("/v1/objectives-taught", {"class_id": c, "objective_ids": roster.objectives, "taught_on": taught_on})
               for c in roster.classes]
    _post_all(system, trust_id, pupils, f"{trust_id}: pupils", progress)
    return roster


def _pupil(school: str, class_id: str, pupil: str, n: int) -> dict[str, Any]:
    return {"id": pupil, "school_id": school, "class_id": class_id, "given_name": f"Given{n}",
            "family_name": f"Family{n}", "groups": {"pupil_premium": n % 4 == 0, "eal": n % 5 == 0,
                                                    "sen": "support" if n % 8 == 0 else "none",
                                                    "gender": "female" if n % 2 else "male"}}


def _post_all(system: BenchSystem, trust_id: str, calls: list[tuple[str, dict[str, Any]]], what: str,
              progress: bool) -> None:
    """POST ``calls`` from a few client threads; classes before pupils is the caller's job."""
    sessions = [system.session(trust_id) for _ in range(CLIENTS)]
    api = system.api_url

    def run(worker: int) -> None:
        for path, body in calls[worker::CLIENTS]:
            post(sessions[worker], api + path, body)
            bar.update()

    with tqdm(total=len(calls), desc=what, unit="req", disable=not progress, leave=False) as bar, \
            ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(run, range(CLIENTS)))


def judgement(pupil: str, objective: str, value: int, on: date, class_id: str | None = None) -> dict[str, Any]:
    """A judgement as the API receives it (``class_id`` is what the API adds to the event)."""
    body: dict[str, Any] = {"pupil_id": pupil, "objective_id": objective, "value": value,
                            "assessed_on": on.isoformat()}
    if class_id is not None:
        body.update(source="teacher", note=None, class_id=class_id)
    return body


def history(roster: Roster, rounds: int, seed: int = 11) -> Iterator[NewEvent]:
    """``rounds`` judgements of every pupil on every objective, one round per school day back."""
    rng = random.Random(seed)
    class_of = roster.class_of()
    start = date.today() - timedelta(days=rounds + 1)
    for r in range(rounds):
        on = start + timedelta(days=r)
        for pupil in roster.pupils:
            for objective in roster.objectives:
                data = judgement(pupil, objective, rng.randint(1, 4), on, class_of[pupil])
                yield NewEvent("pupil", pupil, "JudgementRecorded", data)


def bulk_append(system: BenchSystem, trust_id: str, events: Iterator[NewEvent], total: int, chunk: int = 10_000,
                progress: bool = True) -> int:
    """Append up to ``total`` of ``events`` in ``chunk``-sized transactions (as the application role, under RLS)."""
    metadata = {"sub": "bench-bulk-loader", "roles": ["integration"], "request_id": None}
    appended = 0
    with tqdm(total=total, desc=f"{trust_id}: bulk append", unit="ev", disable=not progress, leave=False) as bar:
        while appended < total and (batch := list(islice(events, min(chunk, total - appended)))):
            with TenantUnitOfWork(system.app, trust_id) as uow:
                append_events(uow.connection, trust_id, batch, metadata)
                uow.commit()
            appended += len(batch)
            bar.update(len(batch))
    return appended
