"""The ``peer`` part of ``make bench``: Fathom beside the ``eventsourcing`` library, same server, same run.

Both sides get the same ``JudgementRecorded`` payloads and write to their own tables in one database
of the benchmark's PostgreSQL server (a database of its own, ``fathom_peer``, so the services of the
other parts never see these events). Every comparison is made in interleaved rounds
(:mod:`tests.bench.pairs`): one ratio per round, then their median.

(a) **Appends**: each round appends the same 300-event batch (30 pupils × 10 objectives) once per side,
    each in one transaction: Fathom through ``append_events`` in a tenant unit of work, the library
    through its application's event store and PostgreSQL recorder, and ``COPY`` of the rows Fathom
    stores into a bare table with the event store's columns (the ceiling).
(b) **Projection**: the same judgements are appended to both stores in equal chunks (not timed); after
    each chunk, each side projects it: Fathom's projector code path against the library's own
    ``ProjectionRunner`` maintaining a "latest value per pupil and objective" table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Engine
from tqdm import tqdm

from fathom_shared.config import load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import head_sequence
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.bench import peer_library as library
from tests.bench.pairs import Interleaved, turns
from tests.bench.peer_sides import (
    Cohort,
    CopyAppender,
    FathomProjector,
    batches,
    bulk_append,
    create_copy_table,
    fathom_append,
    framework_events,
    judgement_events,
    rounds_of_judgements,
)
from tests.bench.report import Report, ms, rate
from tests.bench.system import BenchSystem

DATABASE = "fathom_peer"
FATHOM, LIBRARY, COPY = "fathom", "eventsourcing", "copy"
APPEND_TRUST, PROJECT_TRUST = "peer-append", "peer-project"
APPEND_TARGET, COPY_TARGET, PROJECTION_TARGET = 1.5, 0.15, 5.0


@dataclass(frozen=True)
class PeerSizes:
    pairs: int = 30
    """Interleaved rounds of appends (after ``warm_up`` rounds that are not counted)."""
    objectives_per_batch: int = 10
    """× 30 pupils of one class = 300 events per append."""
    warm_up: int = 3
    projected: int = 200_000
    """Judgements projected by each side, in ``projection_pairs`` equal chunks."""
    projection_pairs: int = 10
    projector_batch: int = 5_000
    """Events per transaction of the projector's catch-up from the store (the most one poll of the projector brings:
    ``MAX_POLL_RECORDS`` messages of at most ``EVENTS_PER_MESSAGE``)."""
    classes: int = 20
    objectives: int = 100
    """20 classes × 30 pupils × 100 objectives = 60,000 cells: 200,000 judgements are 3⅓ rounds of marking."""


FULL = PeerSizes()
QUICK = PeerSizes(pairs=6, warm_up=1, projected=10_000, projection_pairs=2, classes=4, objectives=40)


@dataclass
class PeerDatabase:
    """The database both sides share, with Fathom's schema and roles; engines as owner and as the app role."""

    owner_url: str
    port: int
    owner: Engine
    app: Engine

    @classmethod
    def create(cls, system: BenchSystem) -> PeerDatabase:
        assert system.postgres is not None
        url = system.postgres.create_database(DATABASE)
        migrate(url)
        settings = load_settings({"DATABASE_URL": url})
        owner, app = make_engine(url, pool_size=2), make_engine(settings.app_database_url, pool_size=2)
        for trust in (APPEND_TRUST, PROJECT_TRUST):
            create_trust(owner, trust, f"Peer {trust}")
        create_copy_table(url)
        return cls(url, system.postgres.port, owner, app)

    def library_env(self) -> dict[str, str]:
        return library.postgres_env(DATABASE, self.port)

    def dispose(self) -> None:
        self.owner.dispose()
        self.app.dispose()


def run(system: BenchSystem, sizes: PeerSizes, report: Report, step: Callable[[str], None], progress: bool) -> None:
    report.part = "peer"
    # Idle services would only take CPU from both sides (this part runs last; nothing needs them after it).
    system.stop_service("projector")
    system.stop_service("relay")
    step(f"(peer) database {DATABASE} on the benchmark's server: Fathom's schema, the library's tables")
    database = PeerDatabase.create(system)
    try:
        appends = measure_appends(database, sizes, step, progress)
        projection, checks = measure_projection(database, sizes, step, progress)
    finally:
        database.dispose()
    _report(report, sizes, appends, projection, checks)


@dataclass
class AppendRuns:
    runs: Interleaved
    copy_commits: list[float]
    """Seconds of each counted COPY batch spent committing."""


def measure_appends(database: PeerDatabase, sizes: PeerSizes, step: Callable[[str], None],
                    progress: bool) -> AppendRuns:
    """Rounds of one batch per side, the order changing each round; the first ``warm_up`` rounds are not counted."""
    batch_size = 30 * sizes.objectives_per_batch
    step(f"(peer a) appends: {sizes.pairs} rounds (+{sizes.warm_up} warm-up) of one {batch_size}-event batch "
         f"per side: Fathom, eventsourcing, COPY")
    payloads = batches(Cohort(classes=10, objectives=10 * sizes.objectives_per_batch), sizes.objectives_per_batch)
    store = library.LibraryStore.open(database.library_env(), library.APPEND_APPLICATION)
    copier = CopyAppender(database.owner_url)
    runs = Interleaved(work=batch_size)
    try:
        rounds = turns([FATHOM, LIBRARY, COPY], sizes.warm_up + sizes.pairs)
        for n, order in enumerate(tqdm(rounds, desc="append rounds", disable=not progress, leave=False)):
            batch = next(payloads)
            rows = copier.rows(batch)
            work = {FATHOM: lambda b=batch: fathom_append(database.app, APPEND_TRUST, b),
                    LIBRARY: lambda b=batch: store.append(b), COPY: lambda r=rows: copier.copy(r)}
            for side in order:
                started = time.perf_counter()
                work[side]()
                if n >= sizes.warm_up:
                    runs.add(side, time.perf_counter() - started)
    finally:
        store.close()
        copier.close()
    return AppendRuns(runs, copier.commits[sizes.warm_up:])


@dataclass
class ProjectionChecks:
    fathom_dead_letters: int
    cells: int
    differing: int
    runner_startups: list[float]
    """Seconds from constructing the library's runner to its threads running, per round (part of its time)."""


def measure_projection(database: PeerDatabase, sizes: PeerSizes, step: Callable[[str], None],
                       progress: bool) -> tuple[Interleaved, ProjectionChecks]:
    """Equal chunks appended to both stores (not timed), then each side projects the chunk, taking turns to go first."""
    cohort = Cohort(sizes.classes, sizes.objectives)
    chunk = sizes.projected // sizes.projection_pairs
    step(f"(peer b) projection: {sizes.projection_pairs} rounds of {chunk:,} judgements per side "
         f"({sizes.projected:,} in all); Fathom's framework events first (projected, not timed)")
    projector = FathomProjector(database.app, PROJECT_TRUST, sizes.projector_batch)
    bulk_append(database.app, PROJECT_TRUST, framework_events(cohort))
    projector.project_until(_head(database.app, PROJECT_TRUST))
    store = library.LibraryStore.open(database.library_env(), library.PROJECTED_APPLICATION)
    payloads = rounds_of_judgements(cohort, sizes.projected)
    runs = Interleaved(work=chunk)
    startups = []
    try:
        for order in tqdm(turns([FATHOM, LIBRARY], sizes.projection_pairs), desc="projection rounds",
                          disable=not progress, leave=False):
            judged = list(islice(payloads, chunk))
            bulk_append(database.app, PROJECT_TRUST, judgement_events(judged))
            store.bulk_append(judged)
            heads = {FATHOM: _head(database.app, PROJECT_TRUST), LIBRARY: store.max_notification_id()}
            for side in order:
                started = time.perf_counter()
                if side == FATHOM:
                    projector.project_until(heads[FATHOM])
                else:
                    startups.append(library.project_until(database.library_env(), heads[LIBRARY]))
                runs.add(side, time.perf_counter() - started)
    finally:
        store.close()
    cells, differing = library.compare_with_fathom(database.owner, PROJECT_TRUST)
    return runs, ProjectionChecks(projector.dead_letters, cells, differing, startups)


def _head(app: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(app, trust_id) as uow:
        return head_sequence(uow.connection)


def _ratio_range(runs: Interleaved, ours: str, theirs: str, percent: bool = False) -> str:
    values = runs.ratios(ours, theirs)
    return f"{min(values):.0%}–{max(values):.0%}" if percent else f"{min(values):.2f}–{max(values):.2f}×"


def _report(report: Report, sizes: PeerSizes, append_runs: AppendRuns, projection: Interleaved,
            checks: ProjectionChecks) -> None:
    appends = append_runs.runs
    pairs, batch = len(appends.seconds[FATHOM]), appends.work
    versus = appends.median_ratio(FATHOM, LIBRARY)
    report.add(f"Append in-process, {batch}-event batches, one transaction each: Fathom ÷ "
               f"`{library.VERSION}` (median of {pairs} interleaved pairs)",
               f"**{versus:.2f}×** (pairs {_ratio_range(appends, FATHOM, LIBRARY)}; Fathom "
               f"{rate(appends.median_rate(FATHOM))}, p99 batch {ms(appends.p99_seconds(FATHOM))}; eventsourcing "
               f"{rate(appends.median_rate(LIBRARY))}, p99 batch {ms(appends.p99_seconds(LIBRARY))})",
               f"≥ {APPEND_TARGET:g}×", versus >= APPEND_TARGET)
    ceiling = appends.median_ratio(FATHOM, COPY)
    report.add(f"Append in-process ÷ `COPY` of the same rows, {batch} a transaction (median of {pairs} "
               "interleaved pairs)",
               f"**{ceiling:.1%}** (pairs {_ratio_range(appends, FATHOM, COPY, percent=True)}; COPY "
               f"{appends.median_rate(COPY):,.0f} rows/s, p99 batch {ms(appends.p99_seconds(COPY))}, of which the "
               f"commit p50 {ms(statistics.median(append_runs.copy_commits))}; eventsourcing ÷ COPY "
               f"{appends.median_ratio(LIBRARY, COPY):.1%})",
               f"≥ {COPY_TARGET:.0%}", ceiling >= COPY_TARGET)
    speedup = projection.median_ratio(FATHOM, LIBRARY)
    rounds, chunk = len(projection.seconds[FATHOM]), projection.work
    report.add(f"Projection of {rounds * chunk:,} judgements: Fathom's projector ÷ the library's "
               f"`ProjectionRunner` (median of {rounds} interleaved pairs of {chunk:,})",
               f"**{speedup:.2f}×** (pairs {_ratio_range(projection, FATHOM, LIBRARY)}; Fathom "
               f"{rate(projection.median_rate(FATHOM))}; eventsourcing {rate(projection.median_rate(LIBRARY))})",
               f"≥ {PROJECTION_TARGET:g}×", speedup >= PROJECTION_TARGET)
    for note in _notes(sizes, checks):
        report.note(note)


def _notes(sizes: PeerSizes, checks: ProjectionChecks) -> list[str]:
    agree = (f"after the run both views held {checks.cells:,} cells and "
             f"{'all agreed' if not checks.differing else f'{checks.differing:,} differed'}; "
             f"Fathom dead letters: {checks.fathom_dead_letters}")
    return [
        "Peer, how: one PostgreSQL server (durable, fsync on) and one database for both sides; the same "
        "`JudgementRecorded` payloads (the command API's stored form: pupil, objective, value, date, source, "
        "class, two empty text references); each round runs each side once on the same batch, in an order that "
        "changes every round so that each side runs before each other as often as after it; the ratio is taken "
        f"per round and the median reported (rates are medians of the rounds; {sizes.warm_up} warm-up round(s) "
        "of appends not counted). "
        "Everything runs in the benchmark process, one thread per side at a time; the relay and projector "
        "services are stopped first.",
        "Peer, what Fathom does per event on append: as the command API does, in one tenant transaction as "
        "the application role (`fathom.trust` set, so row-level security is checked on every row): lock the "
        "trust's `trust_heads` row (the per-trust gapless sequence), read the current version of each stream "
        "in the batch, build canonical JSON (sorted keys) of the event and its metadata and chain its SHA-256 "
        "to the previous event's hash, then insert the batch in `unnest` statements of 100 events (primary key, "
        "per-stream version and event-id uniqueness, the time index, and the trust reference checked once "
        "per statement), each sent as soon as it is hashed, all in one pipeline with the head's lock, move the "
        "head and `pg_notify` the relay.",
        f"Peer, what the library does per event on append: `{library.VERSION}`'s application event store "
        "(`Application.events.put`): its mapper turns the domain event into a stored event (its JSON "
        "transcoder), and its PostgreSQL recorder inserts the batch in one transaction: "
        f"{library.APPEND_WORK} Stream versions come from the caller (an application knows them from the "
        "aggregate it loaded; here the benchmark counts them): the library reads nothing before writing, "
        "while Fathom reads each stream's version in the same transaction. No tenant, no hash, no metadata.",
        "Peer, COPY (the ceiling): `COPY … FROM STDIN` through psycopg of the rows Fathom stores for the "
        "batch (its columns and values: ids, sequence, stream versions, JSON data and metadata, 32-byte hashes) "
        "into a bare table `LIKE events` (no keys, indexes, policies or triggers), one transaction a batch, as "
        "the owner role. The rows are rendered in COPY's text format before timing, so what is timed is the "
        "server's side alone: one COPY round trip and the commit (its WAL flush, fsync on, is the floor every "
        "side's batch pays too).",
        f"Peer, projection: for each round {sizes.projected // sizes.projection_pairs:,} judgements are appended "
        "to both stores (not timed), then each side projects them. Fathom: pages of "
        f"{sizes.projector_batch:,} events read from the event store (as the application role) by "
        "`fathom_projector.trust_batch.catch_up_trust`, what the projector process runs when it serves a trust "
        "from the store (as the library's runner reads its own; from the broker it would also check each event "
        "against the store's hash chain, one SHA-256 of the message), each next page read and parsed on a "
        "second connection while the one before is written: it locks the trust's position, folds "
        "the chunk and writes **all** of Fathom's read models a judgement touches (`rm_judgements` with every "
        "judgement, `rm_pupil_objective` — the latest per pupil, objective and source — and their change "
        f"notices) with the position, in one transaction. The library: {library.PROJECTION_WORK} "
        f"(p50 {ms(statistics.median(checks.runner_startups))} a round). It builds that **one** table only. "
        f"Check: {agree}.",
    ]
