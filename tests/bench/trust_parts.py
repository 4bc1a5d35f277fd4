"""The ``imports`` and ``trust-analysis`` parts of ``make bench``: a 20-school trust, seeded through the imports.

Both parts share one seeding (the roster imports *are* the import measurement), so they run
together when both are chosen; either alone still seeds the same trust. ``trust-analysis``
must run last: it stops the relay for good (see :data:`REBUILD_REASON`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from tqdm import tqdm

from fathom_projector.rebuild import rebuild_trust
from tests.bench.report import Report, ms, percentile
from tests.bench.seed import bulk_append
from tests.bench.system import BenchSystem
from tests.bench.trust import ImportRun, TrustRoster, analysis_latency, framework_throughput, history, seed_trust

ANALYSIS_TARGET = 0.100
REBUILD_REASON = (
    "The history was projected by calling `fathom_projector.rebuild.rebuild_trust(engine, trust)` in the benchmark "
    "process, not by the relay and projector: queued behind a stopped projector, 2,000,000 events would be ten "
    "times the ~190,000 at which the local broker's unbounded fetch answers exceed kafka-python's 100 MB frame "
    "limit (see the `core` notes), and through the live pipeline (its rate is the `core` part's whole-pipeline "
    "row) they would take minutes of the run's budget. The relay stays stopped afterwards (started again it "
    "would queue the same 2M events); the projector was restarted, idle, so the reads ran beside the usual "
    "services.")


@dataclass(frozen=True)
class TrustSizes:
    schools: int = 20
    classes_per_year: int = 2
    pupils_per_class: int = 30
    objectives_per_subject: int = 20
    """× 2 subjects = 40 objectives per year group, Years 1–6."""
    rounds: int = 7
    """7 × 7,200 pupils × 40 objectives = 2,016,000 judgements."""
    reads: int = 150
    framework_rows: int = 5000
    """The import's own per-file row limit (rounded down to whole year groups and subjects: 4,992)."""


FULL = TrustSizes()
QUICK = TrustSizes(schools=2, rounds=1, reads=30, framework_rows=480)


def run(system: BenchSystem, sizes: TrustSizes, report: Report, *, imports: bool, analysis: bool,
        step: Callable[[str], None], progress: bool) -> None:
    """Seed the trust through the imports (timed: the ``imports`` rows), then the history and the reads."""
    if imports:
        report.part = "imports"
        step(f"(imports) framework CSV: one {sizes.framework_rows:,}-row file into an empty trust")
        dry, real = framework_throughput(system, system.create_trust("bench-framework"), sizes.framework_rows)
    step(f"(imports) {sizes.schools} schools' OneRoster bundles and the framework, each dry-run first")
    roster, runs = seed_trust(system, system.create_trust("bench-trust"), sizes.schools, sizes.classes_per_year,
                              sizes.pupils_per_class, sizes.objectives_per_subject, progress)
    if imports:
        _import_rows(system, report, sizes, roster, runs, dry, real)
    if analysis:
        report.part = "trust-analysis"
        _analysis(system, sizes, report, roster, step, progress)


def _import_rows(system: BenchSystem, report: Report, sizes: TrustSizes, roster: TrustRoster,
                 runs: dict[str, ImportRun], dry: ImportRun, real: ImportRun) -> None:
    per_school = runs["roster real"].rows[0]
    pupils = len(roster.pupils) // len(roster.schools)
    for name, label in (("roster dry", "dry run"), ("roster real", "real import")):
        run_ = runs[name]
        report.add(f"OneRoster CSV import `POST /v1/roster/import`, {label}, one school a request "
                   f"({per_school:,} rows: orgs + classes + users + enrollments), {len(run_.rows)} schools",
                   f"{run_.rows_per_second:,.0f} rows/s ({sum(run_.rows):,} rows in {sum(run_.seconds):.1f} s; "
                   f"per request p50 {ms(percentile(run_.seconds, 50))}, max {ms(max(run_.seconds))})")
    for run_, label in ((dry, "dry run (3 runs)"), (real, "real import")):
        report.add(f"Framework CSV import `POST /v1/objectives/import`, {label}, one file of {real.rows[0]:,} "
                   "objectives",
                   f"{run_.rows_per_second:,.0f} objectives/s ({sum(run_.rows):,} rows in "
                   f"{sum(run_.seconds):.2f} s)")
    framework_dry, framework_real = runs["framework dry"], runs["framework real"]
    report.note(
        f"Imports: through the API ({system.served_by('api')}), one client, each request with an "
        "`Idempotency-Key`; a sample is one request's wall time (upload, parse, validate against the trust, "
        "append the events and command-side rows in one transaction, answer). Each school's bundle "
        f"(1 district + 1 school org, {sizes.classes_per_year * 6} classes of Years 1–6, {pupils} students and "
        f"{sizes.classes_per_year * 6} teachers, an enrollment each) was sent as a dry run, then for real, into a "
        "trust that already held the schools before it; a real import appends "
        f"{1 + sizes.classes_per_year * 6 + pupils + sizes.classes_per_year * 6} events (school, classes, pupils, "
        "staff assignments). The framework file is the import's 5,000-row limit rounded to whole year groups; "
        f"the trust's own {sum(framework_real.rows):,}-objective framework took {ms(framework_dry.seconds[0])} "
        f"as a dry run and {ms(framework_real.seconds[0])} for real. The relay and projector ran meanwhile "
        "(publishing and projecting the imports' events), as in production.")


def _analysis(system: BenchSystem, sizes: TrustSizes, report: Report, roster: TrustRoster,
              step: Callable[[str], None], progress: bool) -> None:
    trust = roster.trust_id
    total = sizes.rounds * sum(len(roster.objectives[year]) for year, _ in roster.pupils.values())
    step(f"(trust analysis) stop the relay and projector; append {total:,} judgements straight into the store")
    system.stop_service("projector")
    system.stop_service("relay")
    started = time.perf_counter()
    bulk_append(system, trust, history(roster, sizes.rounds), total, chunk=20_000, progress=progress)
    append_seconds = time.perf_counter() - started
    head = system.head(trust)
    step(f"(trust analysis) rebuild the trust's read models in-process from {head:,} events")
    started = time.perf_counter()
    with tqdm(total=head, desc=f"{trust}: rebuild", unit="ev", disable=not progress, leave=False) as bar:
        replayed = rebuild_trust(system.app, trust, progress=lambda n: bar.update(n - bar.n))
    rebuild_seconds = time.perf_counter() - started
    system.start_service("projector")
    if system.applied(trust) != head:
        raise RuntimeError(f"after the rebuild {trust} is at {system.applied(trust)}, not {head}")
    dead = _scalar(system, "SELECT count(*) FROM dead_letters WHERE trust_id = :t", trust)
    cells = _scalar(system, "SELECT count(*) FROM rm_pupil_objective WHERE trust_id = :t", trust)
    year4 = sum(1 for year, _ in roster.pupils.values() if year == 4)
    sizes_seen: dict[str, int] = {}
    first_reads: dict[str, float] = {}
    for subject in ("maths", None):
        params: dict[str, Any] = {"year_group": 4, **({"subject": subject} if subject else {})}
        shown = len(roster.objectives[4]) // (2 if subject else 1)

        def check(body: dict[str, Any], shown: int = shown) -> None:
            assert len(body["schools"]) == sizes.schools, len(body["schools"])
            assert body["pupils"] == year4, body["pupils"]
            assert len(body["objectives"]) == shown, len(body["objectives"])
            assert body["sequence"] == head, body["sequence"]

        query = "&".join(f"{k}={v}" for k, v in params.items())
        step(f"(trust analysis) {sizes.reads} reads of /v1/trust/analysis?{query}")
        reads = analysis_latency(system, trust, params, sizes.reads, check, progress)
        p99 = percentile(reads.seconds, 99)
        report.add(f"Trust analysis `GET /v1/trust/analysis?{query}`, p50 / p99, 1 client, "
                   f"{sizes.schools} schools, {year4:,} Year 4 pupils × {shown} objectives, trust of {head:,} events",
                   f"{ms(percentile(reads.seconds, 50))} / {ms(p99)} ({reads.requests} reads"
                   f"{f', {reads.failures} failed' if reads.failures else ''})",
                   f"p99 ≤ {ANALYSIS_TARGET * 1000:g} ms", p99 <= ANALYSIS_TARGET and not reads.failures)
        sizes_seen[query] = reads.response_bytes
        first_reads[query] = reads.first_read_seconds
    report.note(
        f"Trust analysis: a trust of {sizes.schools} schools × Years 1–6 × {sizes.classes_per_year} classes × "
        f"{sizes.pupils_per_class} pupils ({len(roster.pupils):,} pupils) and "
        f"{len(roster.objectives[4])} objectives per year group (maths and english), seeded through the imports "
        f"(`imports` rows); then {total:,} teacher judgements ({sizes.rounds} of every pupil on every objective of "
        "their year group) appended directly with `append_events` (the API's own append function, as the "
        "application role, hash chain and all) in 20,000-event transactions "
        f"({total / append_seconds:,.0f} events/s into the store) with the relay and projector stopped. "
        f"{REBUILD_REASON} The rebuild replayed {replayed:,} events in {rebuild_seconds:.0f} s "
        f"({replayed / rebuild_seconds:,.0f} events/s, one transaction), leaving {cells:,} current "
        f"(pupil, objective) cells and {dead} dead letters. Reads: one client, sequential, without a consistency "
        "wait, after 10 warm-up reads, so the timed reads are answered from the body each worker keeps until the "
        "trust's position moves; the first warm-up read of each query is a render: "
        + ", ".join(f"`?{q}` {first_reads[q] * 1000:,.0f} ms" for q in first_reads)
        + f"; reports under {system.served_by('reports')}. Responses: "
        + ", ".join(f"`?{q}` {n / 1024:,.0f} KiB" for q, n in sizes_seen.items()) + " of JSON.")


def _scalar(system: BenchSystem, sql: str, trust_id: str) -> int:
    with system.owner.connect() as conn:
        return int(conn.execute(text(sql), {"t": trust_id}).scalar() or 0)
