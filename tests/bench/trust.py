"""A trust of 20 schools, seeded through the CSV imports, for the trust-analysis and import benchmarks.

The roster goes in the way a trust onboards: one OneRoster 1.2 bundle per school through
``POST /v1/roster/import`` and the framework through ``POST /v1/objectives/import``, so seeding
it *is* the import-throughput measurement (each file is sent as a dry run first, then for real,
and both are timed). The judgement history (millions of events) is then appended straight into
the store with :func:`tests.bench.seed.bulk_append`, as for the 1M-event trust.
"""

from __future__ import annotations

import csv
import io
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests
from tqdm import tqdm

from fathom_shared.event_store import NewEvent
from tests.bench.seed import SeedError, judgement, post
from tests.bench.system import BenchSystem
from tests.bench.workloads import Latencies
from tests.support import DEPTH_BANDS

ACADEMIC_YEAR = "2026-27"
YEAR_GROUPS = range(1, 7)
SUBJECTS = ("maths", "english")
SCALE = "esdm"
ORGS_HEADER = ("sourcedId", "status", "name", "type", "parentSourcedId")
CLASSES_HEADER = ("sourcedId", "title", "grades", "schoolSourcedId")
USERS_HEADER = ("sourcedId", "status", "username", "givenName", "familyName", "identifier", "role")
ENROLLMENTS_HEADER = ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role")
FRAMEWORK_HEADER = ("id", "code", "subject", "year_group", "strand", "text", "weight", "scale_id")


@dataclass
class TrustRoster:
    """What the imports created: pupils by (year group, class), objectives by year group."""

    trust_id: str
    schools: list[str] = field(default_factory=list)
    pupils: dict[str, tuple[int, str]] = field(default_factory=dict)
    """pupil id → (year group, class id)."""
    objectives: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class ImportRun:
    """Timed import requests: rows sent per request and each request's wall time."""

    rows: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows) / sum(self.seconds) if self.seconds else 0.0


def _csv(header: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def school_bundle(school: int, classes_per_year: int, pupils_per_class: int) -> tuple[dict[str, bytes], int,
                                                                                    dict[str, tuple[int, str]]]:
    """One school's OneRoster files (Years 1–6): the files, their data-row count, and pupil → (year, class).

    One teacher a class with a teacher enrollment, so every file carries what a real MIS export
    does (the trust's district org row included, which Fathom reads and ignores).
    """
    school_id = f"s{school:02d}"
    orgs = [{"sourcedId": "district", "name": "Bench Trust", "type": "district"},
            {"sourcedId": school_id, "status": "active", "name": f"Bench Primary {school:02d}", "type": "school",
             "parentSourcedId": "district"}]
    classes, users, enrollments = [], [], []
    pupils: dict[str, tuple[int, str]] = {}
    for year in YEAR_GROUPS:
        for c in range(classes_per_year):
            class_id = f"{school_id}-y{year}{'abcdefgh'[c]}"
            classes.append({"sourcedId": class_id, "title": f"{year}{'ABCDEFGH'[c]}", "grades": f"{year:02d}",
                            "schoolSourcedId": school_id})
            teacher = f"{class_id}-t"
            users.append({"sourcedId": teacher, "username": f"{teacher}@staff", "givenName": "Teacher",
                          "familyName": class_id.upper(), "role": "teacher"})
            enrollments.append({"sourcedId": f"e-{teacher}", "classSourcedId": class_id,
                                "schoolSourcedId": school_id, "userSourcedId": teacher, "role": "teacher"})
            for p in range(pupils_per_class):
                pupil = f"{class_id}-p{p + 1:02d}"
                pupils[pupil] = (year, class_id)
                users.append({"sourcedId": pupil, "status": "active", "username": f"{pupil}@pupils",
                              "givenName": f"Given{p}", "familyName": f"Family{school}{year}{c}", "role": "student"})
                enrollments.append({"sourcedId": f"e-{pupil}", "classSourcedId": class_id,
                                    "schoolSourcedId": school_id, "userSourcedId": pupil, "role": "student"})
    files = {"orgs.csv": _csv(ORGS_HEADER, orgs), "classes.csv": _csv(CLASSES_HEADER, classes),
             "users.csv": _csv(USERS_HEADER, users), "enrollments.csv": _csv(ENROLLMENTS_HEADER, enrollments)}
    return files, len(orgs) + len(classes) + len(users) + len(enrollments), pupils


def framework(per_subject: int, year_groups: Iterator[int] | range = YEAR_GROUPS, prefix: str = "") -> tuple[
        bytes, dict[int, list[str]]]:
    """``per_subject`` objectives for each subject and year group, as a framework CSV; and the ids by year."""
    rows, ids = [], {}
    for year in year_groups:
        ids[year] = []
        for subject in SUBJECTS:
            for n in range(per_subject):
                code = f"{prefix}Y{year}{subject[0].upper()}{n + 1:03d}"
                ids[year].append(code.lower())
                rows.append({"id": code.lower(), "code": code, "subject": subject, "year_group": year,
                             "strand": "number" if subject == "maths" else "reading",
                             "text": f"Year {year} {subject} objective {n + 1}", "weight": "",
                             "scale_id": SCALE})
    return _csv(FRAMEWORK_HEADER, rows), ids


def _timed_post(session: requests.Session, url: str, expect: int, **kwargs: Any) -> float:
    """One import request with an Idempotency-Key; its wall time, or SeedError on an unexpected status."""
    t0 = time.perf_counter()
    response = session.post(url, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=300, **kwargs)
    elapsed = time.perf_counter() - t0
    if response.status_code != expect:
        raise SeedError(f"POST {url} answered {response.status_code}: {response.text[:500]}")
    return elapsed


def import_framework(system: BenchSystem, session: requests.Session, body: bytes, rows: int,
                     dry: ImportRun, real: ImportRun) -> None:
    """The framework file as a dry run, then for real (``text/csv`` body), each request timed."""
    url = f"{system.api_url}/v1/objectives/import"
    headers = {"Content-Type": "text/csv"}
    dry.seconds.append(_post_csv(session, f"{url}?dry_run=true", 200, body, headers))
    dry.rows.append(rows)
    real.seconds.append(_post_csv(session, f"{url}?dry_run=false", 201, body, headers))
    real.rows.append(rows)


def _post_csv(session: requests.Session, url: str, expect: int, body: bytes, headers: dict[str, str]) -> float:
    t0 = time.perf_counter()
    response = session.post(url, data=body, timeout=300,
                            headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    elapsed = time.perf_counter() - t0
    if response.status_code != expect:
        raise SeedError(f"POST {url} answered {response.status_code}: {response.text[:500]}")
    return elapsed


def seed_trust(system: BenchSystem, trust_id: str, schools: int, classes_per_year: int, pupils_per_class: int,
               objectives_per_subject: int, progress: bool = True) -> tuple[TrustRoster, dict[str, ImportRun]]:
    """Scale, framework and every school's roster through the imports, each file dry-run first; all timed."""
    roster = TrustRoster(trust_id)
    session = system.session(trust_id)
    post(session, f"{system.api_url}/v1/scales", {"id": SCALE, "name": "Emerging to Mastery", "bands": DEPTH_BANDS})
    runs = {name: ImportRun() for name in ("framework dry", "framework real", "roster dry", "roster real")}
    body, roster.objectives = framework(objectives_per_subject)
    import_framework(system, session, body, sum(map(len, roster.objectives.values())), runs["framework dry"],
                     runs["framework real"])
    url = f"{system.api_url}/v1/roster/import"
    for school in tqdm(range(1, schools + 1), desc=f"{trust_id}: roster imports", disable=not progress,
                       leave=False):
        files, rows, pupils = school_bundle(school, classes_per_year, pupils_per_class)
        parts = {name: (name, content, "text/csv") for name, content in files.items()}
        for dry_run, expect, run in ((True, 200, runs["roster dry"]), (False, 201, runs["roster real"])):
            run.seconds.append(_timed_post(session, f"{url}?dry_run={str(dry_run).lower()}&academic_year="
                                           f"{ACADEMIC_YEAR}", expect, files=parts))
            run.rows.append(rows)
        roster.schools.append(f"s{school:02d}")
        roster.pupils.update(pupils)
    return roster, runs


def framework_throughput(system: BenchSystem, trust_id: str, objectives: int) -> tuple[ImportRun, ImportRun]:
    """One ``objectives``-row framework file into an empty trust: 3 dry runs after a warm-up, then for real."""
    session = system.session(trust_id)
    post(session, f"{system.api_url}/v1/scales", {"id": SCALE, "name": "Emerging to Mastery", "bands": DEPTH_BANDS})
    per_subject = max(1, objectives // (len(SUBJECTS) * len(YEAR_GROUPS)))
    body, ids = framework(per_subject, prefix="F")
    rows = sum(map(len, ids.values()))
    url = f"{system.api_url}/v1/objectives/import"
    headers = {"Content-Type": "text/csv"}
    dry, real = ImportRun(), ImportRun()
    _post_csv(session, f"{url}?dry_run=true", 200, body, headers)  # warm-up: worker caches, connections
    for _ in range(3):
        dry.seconds.append(_post_csv(session, f"{url}?dry_run=true", 200, body, headers))
        dry.rows.append(rows)
    real.seconds.append(_post_csv(session, f"{url}?dry_run=false", 201, body, headers))
    real.rows.append(rows)
    return dry, real


def history(roster: TrustRoster, rounds: int, seed: int = 23) -> Iterator[NewEvent]:
    """``rounds`` teacher judgements of every pupil on every objective of their year group, a day apart."""
    rng = random.Random(seed)
    start = date.today() - timedelta(days=rounds + 1)
    for r in range(rounds):
        on = start + timedelta(days=r)
        for pupil, (year, class_id) in roster.pupils.items():
            for objective in roster.objectives[year]:
                data = judgement(pupil, objective, rng.randint(1, 4), on, class_id)
                yield NewEvent("pupil", pupil, "JudgementRecorded", data)


def analysis_latency(system: BenchSystem, trust_id: str, params: dict[str, Any], count: int,
                     check: Callable[[dict[str, Any]], None] | None = None, progress: bool = True) -> Latencies:
    """``count`` sequential ``GET /v1/trust/analysis`` reads from one client, after 10 warm-up reads."""
    url = f"{system.reports_url}/v1/trust/analysis"
    session = system.session(trust_id)
    warm_up = []
    for _ in range(10):
        t0 = time.perf_counter()
        body = session.get(url, params=params, timeout=120)
        warm_up.append(time.perf_counter() - t0)
        body.raise_for_status()
    if check is not None:
        check(body.json())
    result = Latencies(response_bytes=len(body.content), first_read_seconds=warm_up[0])
    started = time.perf_counter()
    for _ in tqdm(range(count), desc=f"trust analysis {params}", disable=not progress, leave=False):
        t0 = time.perf_counter()
        response = session.get(url, params=params, timeout=120)
        elapsed = time.perf_counter() - t0
        if response.status_code == 200:
            result.seconds.append(elapsed)
        else:
            result.failures += 1
    result.requests, result.wall_seconds = count, time.perf_counter() - started
    return result
