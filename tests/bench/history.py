"""The ``history`` part of ``make bench``: time travel and the online rebuild on a trust of a million events.

The trust: 10 schools × Years 1–6 × 2 classes × 30 pupils, onboarded through the imports
(:func:`tests.bench.trust.seed_trust`, so pupils have names), then a year-like history appended
straight into the store with :func:`fathom_shared.event_store.append_events` (as the application
role, hash chain and all) in big transactions for setup speed: weekly rounds in which each class
is taught a share of its objectives and every pupil is judged on every objective of their year
group, ~1 % of judgements corrected and ~0.1 % withdrawn some thousands of events later, and
a few pupils swapping classes between rounds.

1. **Time travel**: ``GET /v1/classes/{id}/analysis?as_of=…`` for one class of 30 pupils, at
   moments spread over the whole history (sequence numbers and ISO timestamps alternately),
   one client, with an auditor token. Time travel reads the event store only, so the read
   models are not projected first (the relay and projector are stopped while appending).
2. **Rebuild**: ``fathom rebuild --trust T`` run as an operator runs it (a subprocess with
   ``DATABASE_URL`` and ``APP_DATABASE_URL``), timed from start to exit; the replay phase is
   also timed by polling its resumable progress row.

Then one ``class_analysis_as_of`` call is profiled in-process (cProfile) to say where the time goes.
"""

from __future__ import annotations

import cProfile
import heapq
import os
import pstats
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from tqdm import tqdm

from fathom_reports.loading.time_travel import FRAMEWORK_STREAMS, class_analysis_as_of, pupils_ever_in, resolve
from fathom_reports.schemas.as_of import AsOf
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, read_streams
from fathom_shared.events import CURRENT_VERSION, upcast
from tests.bench.census import census, stack_parts
from tests.bench.report import Report, ms, percentile, rate
from tests.bench.seed import bulk_append
from tests.bench.system import BenchSystem
from tests.bench.trust import TrustRoster, seed_trust
from tests.bench.workloads import Latencies

TIME_TRAVEL_TARGET = 0.5
REBUILD_TARGET = 50_000
CHUNK = 20_000
REBUILD_TIMEOUT = 1800.0
WARM_UP = 3


@dataclass(frozen=True)
class HistorySizes:
    schools: int = 10
    classes_per_year: int = 2
    pupils_per_class: int = 30
    objectives_per_subject: int = 20
    """× 2 subjects = 40 objectives per year group, Years 1–6."""
    rounds: int = 7
    """7 weekly rounds × 3,600 pupils × 40 objectives = 1,008,000 judgements (plus corrections, moves …)."""
    moments: int = 40
    passes: int = 2
    """Each moment is asked ``passes`` times (a fresh random order each pass): 80 samples."""
    correction_rate: float = 0.01
    withdrawal_rate: float = 0.001


FULL = HistorySizes()
QUICK = HistorySizes(schools=2, rounds=1, moments=30, passes=1)
MEASURED_CLASS = "s01-y4a"


# --- the history --------------------------------------------------------------------------
@dataclass
class HistoryStats:
    """What the generator produced (filled in as the events are consumed)."""

    counts: dict[str, int] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)

    def add(self, event: NewEvent) -> NewEvent:
        self.counts[event.event_type] = self.counts.get(event.event_type, 0) + 1
        if event.event_type not in self.checked:  # the first of each type goes through the schema: no poison
            upcast(event.event_type, event.schema_version, event.data)
            self.checked.add(event.event_type)
        return event

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def expected_events(roster: TrustRoster, sizes: HistorySizes) -> int:
    """About how many events :func:`history` yields (for the progress bar; the exact count is counted)."""
    judged = sizes.rounds * sum(len(roster.objectives[year]) for year, _ in roster.pupils.values())
    return round(judged * (1 + sizes.correction_rate + sizes.withdrawal_rate))


def history(roster: TrustRoster, sizes: HistorySizes, stats: HistoryStats, seed: int = 31) -> Iterator[NewEvent]:
    """Weekly rounds: moves (two pupils swap classes, one pair a school), teaching, then every pupil judged.

    Corrections and withdrawals point at a judgement recorded earlier (its event id) and are
    emitted a few hundred to 50,000 events after it, so they land in later transactions.
    """
    rng = random.Random(seed)
    current = {pupil: class_id for pupil, (_, class_id) in roster.pupils.items()}
    members: dict[str, list[str]] = {}
    for pupil, class_id in current.items():
        members.setdefault(class_id, []).append(pupil)
    year_of = {pupil: year for pupil, (year, _) in roster.pupils.items()}
    classes = sorted(members)
    pending: list[tuple[int, int, NewEvent]] = []  # (due after n events, tie-break, event)
    emitted = 0
    start = date.today() - timedelta(weeks=sizes.rounds + 1)

    def emit(event: NewEvent) -> NewEvent:
        nonlocal emitted
        emitted += 1
        return stats.add(event)

    def due() -> Iterator[NewEvent]:
        while pending and pending[0][0] <= emitted:
            yield emit(heapq.heappop(pending)[2])

    for r in range(sizes.rounds):
        day = start + timedelta(weeks=r)
        if r and sizes.classes_per_year >= 2:
            for school in roster.schools:
                year = 4 if school == roster.schools[0] else rng.choice(sorted(roster.objectives))
                a, b = f"{school}-y{year}a", f"{school}-y{year}b"
                pa, pb = rng.choice(members[a]), rng.choice(members[b])
                for pupil, to in ((pa, b), (pb, a)):
                    members[current[pupil]].remove(pupil)
                    members[to].append(pupil)
                    current[pupil] = to
                    yield emit(NewEvent("pupil", pupil, "PupilMoved", {
                        "pupil_id": pupil, "class_id": to, "year_group": year, "moved_on": day.isoformat()}))
        for class_id in classes:
            year = int(class_id.split("-y")[1][0])
            for n, objective in enumerate(roster.objectives[year]):
                if n % sizes.rounds == r:
                    yield emit(NewEvent("class", class_id, "ObjectiveTaught", {
                        "class_id": class_id, "objective_id": objective, "taught_on": day.isoformat()}))
        for pupil in roster.pupils:
            for objective in roster.objectives[year_of[pupil]]:
                yield from due()
                # The id as the command API makes it (the event's default: time-ordered, UUID version 7), not a
                # random one: the judgements' keys in the read models then grow at one end of their indexes, as
                # a trust's own do, and a rebuild of random ones measured slower (see the benchmark notes).
                recorded = emit(NewEvent("pupil", pupil, "JudgementRecorded", {
                    "pupil_id": pupil, "objective_id": objective, "value": rng.randint(1, 4),
                    "assessed_on": day.isoformat(), "source": "teacher", "note_ref": None, "evidence_ref_id": None,
                    "class_id": current[pupil]}, schema_version=CURRENT_VERSION["JudgementRecorded"]))
                yield recorded
                roll = rng.random()
                if roll < sizes.correction_rate + sizes.withdrawal_rate:
                    ref = {"judgement_id": str(recorded.event_id), "pupil_id": pupil, "objective_id": objective}
                    amendment = (NewEvent("pupil", pupil, "JudgementCorrected", {
                        **ref, "value": rng.randint(1, 4), "reason": "Moderation: re-judged against the exemplar"})
                        if roll < sizes.correction_rate else
                        NewEvent("pupil", pupil, "JudgementWithdrawn",
                                 {**ref, "reason": "Recorded for the wrong pupil"}))
                    heapq.heappush(pending, (emitted + rng.randint(300, 50_000), emitted, amendment))
    while pending:
        yield emit(heapq.heappop(pending)[2])


# --- measurements -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    query: str
    """The ``as_of`` value sent: a sequence number or an ISO 8601 timestamp."""
    sequence: int
    """The sequence the view must report."""

    @property
    def kind(self) -> str:
        return "sequence" if self.query.isdigit() else "timestamp"


def moments(system: BenchSystem, trust: str, first: int, head: int, count: int) -> list[Moment]:
    """``count`` moments evenly spread over ``first..head``: sequences and timestamps alternately.

    A timestamp is the ``recorded_at`` of the event at the spread point (every event of one
    append transaction shares it), so it stands for the last sequence of that transaction.
    """
    chosen = []
    with system.owner.connect() as conn:
        for i in range(count):
            sequence = first + round((head - first) * (i + 1) / count)
            if i % 2 == 0:
                chosen.append(Moment(str(sequence), sequence))
                continue
            at: datetime = conn.execute(text("SELECT recorded_at FROM events WHERE trust_id = :t AND sequence = :s"),
                                        {"t": trust, "s": sequence}).scalar_one()
            last = conn.execute(text("SELECT max(sequence) FROM events WHERE trust_id = :t AND recorded_at <= :at"),
                                {"t": trust, "at": at}).scalar_one()
            chosen.append(Moment(at.isoformat(), int(last)))
    return chosen


@dataclass
class TimeTravel:
    latencies: Latencies
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)


def time_travel_latency(system: BenchSystem, trust: str, class_id: str, points: list[Moment], passes: int,
                        pupils: int, progress: bool) -> TimeTravel:
    """Sequential ``as_of`` reads from one client with an auditor token; each answer checked."""
    url = f"{system.reports_url}/v1/classes/{class_id}/analysis"
    session = system.session(trust)
    session.headers["Authorization"] = f"Bearer {system.token(trust, 'auditor')}"
    for point in points[-WARM_UP:]:
        session.get(url, params={"as_of": point.query}, timeout=120).raise_for_status()
    result = TimeTravel(Latencies())
    rng = random.Random(5)
    plan = [p for _ in range(passes) for p in rng.sample(points, len(points))]
    started = time.perf_counter()
    for point in tqdm(plan, desc=f"{class_id} as_of", disable=not progress, leave=False):
        t0 = time.perf_counter()
        response = session.get(url, params={"as_of": point.query}, timeout=120)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            result.latencies.failures += 1
            result.wrong.append(f"as_of={point.query}: {response.status_code}")
            continue
        result.latencies.seconds.append(elapsed)
        result.by_kind.setdefault(point.kind, []).append(elapsed)
        result.latencies.response_bytes = len(response.content)
        body = response.json()
        if body["sequence"] != point.sequence or len(body["pupils"]) != pupils:
            result.wrong.append(f"as_of={point.query}: sequence {body['sequence']} (expected {point.sequence}), "
                                f"{len(body['pupils'])} pupils")
    result.latencies.requests, result.latencies.wall_seconds = len(plan), time.perf_counter() - started
    return result


@dataclass
class RebuildRun:
    head: int
    seconds: float
    """The command's wall time, from spawn to exit."""
    replay_events: int = 0
    replay_seconds: float = 0.0
    """From the first progress poll that showed a committed chunk to the one that showed the last."""
    before_first: float = 0.0
    """From spawn to the first committed chunk seen (interpreter start, shadow check, the first chunk)."""
    after_last: float = 0.0
    """From the last committed chunk seen to exit (the switch: the last events, swapping the live rows)."""
    output: str = ""

    @property
    def per_second(self) -> float:
        return self.head / self.seconds if self.seconds else 0.0

    @property
    def replay_per_second(self) -> float:
        return self.replay_events / self.replay_seconds if self.replay_seconds else 0.0


def rebuild(system: BenchSystem, trust: str, head: int, log: Path, progress: bool) -> RebuildRun:
    """``fathom rebuild --trust T`` as a subprocess; its resumable progress row polled every 0.2 s."""
    settings = system.settings
    assert settings is not None
    env = {**system.env, "DATABASE_URL": settings.database_url, "APP_DATABASE_URL": settings.app_database_url}
    argv = [str(Path(sys.executable).parent / "fathom"), "rebuild", "--trust", trust]
    log.parent.mkdir(parents=True, exist_ok=True)
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            with tqdm(total=head, desc=f"{trust}: fathom rebuild", unit="ev", disable=not progress,
                      leave=False) as bar:
                while process.poll() is None:
                    if time.perf_counter() - started > REBUILD_TIMEOUT:
                        raise TimeoutError(f"fathom rebuild --trust {trust} still running after {REBUILD_TIMEOUT:.0f}s")
                    done = _replayed(system, trust)
                    if done and (last is None or done != last[1]):  # a newly committed chunk (not the switch)
                        now = time.perf_counter()
                        first = first or (now, done)
                        last = (now, done)
                        bar.update(done - bar.n)
                    time.sleep(0.2)
            seconds = time.perf_counter() - started
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"fathom rebuild exited {process.returncode}: {output[-500:]}")
    run = RebuildRun(head, seconds, output=output)
    if first and last and last[0] > first[0]:
        run.replay_events, run.replay_seconds = last[1] - first[1], last[0] - first[0]
        run.before_first, run.after_last = first[0] - started, started + seconds - last[0]
    return run


def _replayed(system: BenchSystem, trust: str) -> int:
    """The replay's committed position (0 before the command has created its shadow schema and row)."""
    with system.owner.connect() as conn:
        if conn.execute(text("SELECT to_regclass('fathom_rebuild.progress')")).scalar() is None:
            return 0
        return int(conn.execute(text("SELECT last_sequence FROM fathom_rebuild.progress WHERE trust_id = :t"),
                                {"t": trust}).scalar() or 0)


@dataclass
class Profile:
    seconds: float
    events: int
    phases: dict[str, float]
    top: list[str]


PHASES = {
    "resolve": ("time_travel.py", "resolve"),
    "pupils_ever_in": ("time_travel.py", "pupils_ever_in"),
    "replay_streams (SQL + rows)": ("replay.py", "replay_streams"),
    "parse_batch (upcast/validate)": ("parsing.py", "parse_batch"),
    "project (fold)": ("fold.py", "project"),
    "scratch tables": ("scratch.py", "create_scratch"),
    "fill (COPY of the fold's final rows)": ("fill.py", "copy_rows"),
    "current judgements (rollup)": ("current.py", "current_rows"),
    "SQL loader": ("class_analysis.py", "load_class_snapshot"),
    "analyse_class": ("class_analysis.py", "analyse_class"),
}


def profile_one(system: BenchSystem, trust: str, class_id: str, head: int) -> Profile:
    """One ``class_analysis_as_of`` at the head, under cProfile: cumulative time of each phase."""
    app = system.app
    assert app is not None
    with TenantUnitOfWork(app, trust) as uow:  # how many events the replay folds
        connection = uow.connection
        moment = resolve(connection, AsOf(sequence=head))
        pupils = pupils_ever_in(connection, [class_id], moment.sequence)
        events = len(read_streams(connection, stream_types=FRAMEWORK_STREAMS, until=moment.sequence,
                                  streams=[("class", class_id), *(("pupil", p) for p in pupils)]))
    class_analysis_as_of(app, trust, class_id, head)  # warm: imports, pool, caches
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.runcall(class_analysis_as_of, app, trust, class_id, head)
    seconds = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    phases = {}
    for label, (filename, name) in PHASES.items():
        phases[label] = max((v[3] for (f, _, n), v in raw.items() if n == name and f.endswith(filename)),
                            default=0.0)
    by_own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:8]
    top = [f"{_short(f)}:{n} {v[2] * 1000:,.0f} ms" for (f, _, n), v in by_own]
    return Profile(seconds, events, phases, top)


def _short(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path


def _scalar(system: BenchSystem, sql: str, trust_id: str) -> int:
    with system.owner.connect() as conn:
        return int(conn.execute(text(sql), {"t": trust_id}).scalar() or 0)


def _live_matches(system: BenchSystem, trust: str, class_id: str, head: int) -> str:
    """The rebuilt read model's Class Analysis against the one replayed ``as_of`` the head."""
    session = system.session(trust)
    url = f"{system.reports_url}/v1/classes/{class_id}/analysis"
    live = session.get(url, params={"consistency": f"at_least:{head}"}, timeout=120)
    past = session.get(url, params={"as_of": str(head)}, timeout=120)
    if live.status_code != 200 or past.status_code != 200:
        return f"could not compare (live {live.status_code}, as_of {past.status_code})"
    a, b = live.json(), past.json()
    differing = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return "identical" if not differing else f"differing in {', '.join(differing)}"


# --- the part ---------------------------------------------------------------------------------
def run(system: BenchSystem, sizes: HistorySizes, report: Report, step: Callable[[str], None],
        progress: bool) -> None:
    report.part = "history"
    step(f"(history) {sizes.schools} schools' rosters and the framework through the imports")
    roster, _ = seed_trust(system, system.create_trust("bench-history"), sizes.schools, sizes.classes_per_year,
                           sizes.pupils_per_class, sizes.objectives_per_subject, progress)
    trust = roster.trust_id
    seeded = system.head(trust)
    expected = expected_events(roster, sizes)
    step(f"(history) stop the relay and projector; append ~{expected:,} events straight into the store")
    system.stop_service("projector")
    system.stop_service("relay")
    stats = HistoryStats()
    started = time.perf_counter()
    bulk_append(system, trust, history(roster, sizes, stats), 10 * expected, chunk=CHUNK, progress=progress)
    append_seconds = time.perf_counter() - started
    head = system.head(trust)
    if head != seeded + stats.total:
        raise RuntimeError(f"{trust}: head {head}, expected {seeded} + {stats.total}")

    points = moments(system, trust, seeded, head, sizes.moments)
    step(f"(history) time travel: {len(points)} moments × {sizes.passes} of class {MEASURED_CLASS}, "
         f"trust of {head:,} events")
    travel = time_travel_latency(system, trust, MEASURED_CLASS, points, sizes.passes, sizes.pupils_per_class,
                                 progress)
    seconds = travel.latencies.seconds
    p99 = percentile(seconds, 99)
    ok = p99 <= TIME_TRAVEL_TARGET and not travel.latencies.failures and not travel.wrong
    report.add(f"Time travel: Class Analysis `GET /v1/classes/{{id}}/analysis?as_of=…` (30 pupils × "
               f"{len(roster.objectives[4])} objectives), p50 / p99 (max), 1 client, {len(points)} moments "
               f"(sequences and timestamps) × {sizes.passes}, trust of {head:,} events",
               f"{ms(percentile(seconds, 50))} / {ms(p99)} ({ms(max(seconds, default=float('nan')))}); "
               f"{len(seconds)} reads{f', {travel.latencies.failures} failed' if travel.latencies.failures else ''}"
               f"{f', {len(travel.wrong)} wrong' if travel.wrong else ''}",
               f"p99 ≤ {TIME_TRAVEL_TARGET:g} s", ok)

    step("(history) profile one class_analysis_as_of at the head in-process (cProfile)")
    prof = profile_one(system, trust, MEASURED_CLASS, head)

    step(f"(history) fathom rebuild --trust {trust}: {head:,} events")
    system.start_service("projector")  # the relay stays stopped: started again it would queue the whole history
    # The history went into the store with the projector stopped: its catch-up sweep projects it from the store
    # once it has waited past the grace. A rebuild rebuilds models that are current, beside an idle projector;
    # timed while the sweep projected the same million events, it measured the two at once.
    started = time.perf_counter()
    system.wait_for(f"{trust}: projected", lambda: system.applied(trust), head, 1800, progress)
    caught_up = time.perf_counter() - started
    logs = Path(system.home) / "logs"
    with census(stack_parts(system), commands="the rebuild command") as used:
        rebuilt = rebuild(system, trust, head, logs / "rebuild.log", progress)
    if system.applied(trust) != head:
        raise RuntimeError(f"after the rebuild {trust} is at {system.applied(trust)}, not {head}")
    report.add(f"Online rebuild `fathom rebuild --trust T` (CLI subprocess, all read models), trust of {head:,} "
               "events",
               f"{rate(rebuilt.per_second)} ({head:,} events in {rebuilt.seconds:.0f} s, start to exit; replay "
               f"phase alone {rate(rebuilt.replay_per_second)})",
               f"≥ {REBUILD_TARGET:,} events/s", rebuilt.per_second >= REBUILD_TARGET)
    same = _live_matches(system, trust, MEASURED_CLASS, head)
    dead = _scalar(system, "SELECT count(*) FROM dead_letters WHERE trust_id = :t", trust)
    cells = _scalar(system, "SELECT count(*) FROM rm_pupil_objective WHERE trust_id = :t", trust)

    counts = stats.counts
    kinds = "; ".join(f"{k}s p50 {ms(percentile(v, 50))}, max {ms(max(v))}" for k, v in sorted(travel.by_kind.items()))
    phases = ", ".join(f"{label} {v * 1000:,.0f} ms" for label, v in prof.phases.items())
    report.note(
        f"History: a trust of {sizes.schools} schools × Years 1–6 × {sizes.classes_per_year} classes × "
        f"{sizes.pupils_per_class} pupils ({len(roster.pupils):,} pupils, {len(roster.objectives[4])} objectives "
        f"per year group), onboarded through the imports ({seeded:,} events); then {stats.total:,} events appended "
        "directly with `append_events` (the API's own append function, as the application role, hash chain and "
        f"all) in {CHUNK:,}-event transactions for setup speed ({stats.total / append_seconds:,.0f} events/s into "
        f"the store) with the relay and projector stopped: {sizes.rounds} weekly round(s) of "
        f"{counts.get('JudgementRecorded', 0):,} teacher judgements in all (every pupil on every objective of "
        f"their year group, v{CURRENT_VERSION['JudgementRecorded']} events), {counts.get('ObjectiveTaught', 0):,} "
        f"taught dates, {counts.get('JudgementCorrected', 0):,} corrections and "
        f"{counts.get('JudgementWithdrawn', 0):,} withdrawals (each 300–50,000 events after its judgement), and "
        f"{counts.get('PupilMoved', 0)} moves (pairs of pupils swapping classes between rounds, one pair a school; "
        f"`{MEASURED_CLASS}` swaps a pupil every round, so the class stays at 30). Moves and taught dates went "
        "into the store only (the command-side tables still show the imported classes; time travel and the "
        "rebuild read events only).")
    report.note(
        f"Time travel: class `{MEASURED_CLASS}`, {len(points)} moments evenly spread from the end of the "
        f"onboarding to the head, alternately a sequence number and an ISO timestamp (the `recorded_at` of the "
        f"event at that point: it stands for the last event of that append transaction), asked in random order "
        f"{sizes.passes} time(s) after {WARM_UP} warm-up reads; each answer checked for the expected `sequence` "
        f"and 30 pupils ({len(travel.wrong)} wrong). An auditor token, so every read is also recorded in the "
        f"audit log. Each reports worker keeps the streams its past views read, parsed, and reads only the events "
        f"after them (`fathom_reports/loading/past_events.py`): after the first reads these are an auditor "
        f"stepping through a class's history, not a worker starting cold (the in-process call below starts with "
        f"nothing kept). The read models were not projected (time travel reads the event store only); reports under "
        f"{system.served_by('reports')}; {travel.latencies.response_bytes / 1024:,.0f} KiB of JSON. By kind: "
        f"{kinds}. At the head the replay folds {prof.events:,} events (the framework and settings streams, the "
        f"class's stream and the streams of every pupil ever in it). One `class_analysis_as_of` call at the head "
        f"in-process took {ms(prof.seconds)} under cProfile (which inflates Python-heavy parts); cumulative "
        f"time: {phases}. Most own time: {'; '.join(prof.top)}.")
    report.note(
        f"Rebuild: `{_venv_fathom()} rebuild --trust {trust}` run as a subprocess with "
        "`DATABASE_URL` and `APP_DATABASE_URL`, after the time-travel reads, with the reports service and an idle "
        "projector running (relay stopped: started again it would queue the whole history), once the projector "
        f"had projected the history from the store ({caught_up:.0f} s after it started: its catch-up sweep, as "
        "the history was appended while it was stopped), so the models rebuilt were current. The rate is the "
        "head sequence over the command's wall time (interpreter start, shadow check, replay in committed "
        "chunks, the switch); the replay phase alone is from polling `fathom_rebuild.progress` every 0.2 s, from "
        f"the first committed chunk seen ({rebuilt.before_first:.0f} s after spawn) to the last "
        f"({rebuilt.after_last:.0f} s before exit: the current judgements derived from the replayed ones, then the "
        f"switch, which replaces the trust's live rows). CPU each part used from spawn to exit, {used.wall:.0f} s: "
        f"{used.line()}. "
        f"Afterwards `rm_positions` was at the head, {cells:,} current (pupil, objective) cells, {dead} dead "
        f"letters; the rebuilt Class Analysis of `{MEASURED_CLASS}` against the one replayed `as_of` the head: "
        f"{same}. Load average during the part: {os.getloadavg()[0]:.1f}.")


def _venv_fathom() -> str:
    """The command as run here, e.g. ``.venv/bin/fathom`` (the environment's folder and ``bin``)."""
    scripts = Path(sys.executable).parent
    return f"{scripts.parent.name}/{scripts.name}/fathom"
