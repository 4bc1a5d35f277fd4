"""Database writes of the projector: read-model rows, dead letters and the per-trust position.

Every function runs inside the caller's :class:`fathom_shared.db.TenantUnitOfWork`, so the
rows, their change notices (:mod:`fathom_shared.read_models.notices`) and ``rm_positions.last_applied``
commit together (the exactly-once effect). Rows go
to PostgreSQL one statement per table: the rows travel as one JSON document turned into typed
columns server-side (:mod:`fathom_shared.read_models.arrays`), which keeps a 5,000-event batch at a
handful of round trips. Every statement is
built from the table specs (:mod:`fathom_shared.read_models.tables`) and names its tables
unqualified, so the same functions can fill copies of the tables instead of the live ones
(:mod:`fathom_shared.read_models.target`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import DBAPIError

from fathom_shared.event_store import StoredEvent
from fathom_shared.notifications import PROJECTED, notify
from fathom_shared.read_models.arrays import array_params, selected, unnest
from fathom_shared.read_models.band_counts import refresh_touched
from fathom_shared.read_models.by_key import delete, load
from fathom_shared.read_models.current import cells_kept, refresh
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.notices import ENSURE_HEAD, changed_only, with_notices
from fathom_shared.read_models.parsing import parse_batch, wanted
from fathom_shared.read_models.projection import ParsedBatch, Projection, Rejected
from fathom_shared.read_models.read_ahead import ReadAhead
from fathom_shared.read_models.tables import DEAD_LETTERS, TABLES, Key, Row, Table

MAX_REASON = 500


def _insert_sql(table: Table) -> str:
    """``INSERT ... SELECT FROM json_to_recordset(rows)`` for rows new to the table: no conflict check."""
    columns = ", ".join(table.columns)
    return (f"INSERT INTO {table.name} (trust_id, {columns}) "
            f"SELECT :trust_id, {selected(table.columns)} FROM {unnest(table.columns)}")


def _upsert_statement(table: Table) -> TextClause:
    """``INSERT ... SELECT FROM json_to_recordset(rows) ON CONFLICT ...`` for one table, announcing the rows it changed.

    ``ignore`` tables return only new rows; ``replace`` tables rewrite (and return) only rows whose
    values differ, so a re-sent identical row is neither written nor announced.
    """
    columns = ", ".join(table.columns)
    sql = f"{_insert_sql(table)} ON CONFLICT ({', '.join(('trust_id', *table.key))}) DO "
    if table.conflict == "ignore":
        sql += "NOTHING"
    else:
        sql += ("UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in table.values)
                + changed_only(table.name, table.columns, table.key))
    return with_notices(f"{sql} RETURNING {columns}", table.name, table.key)


UPSERTS: dict[str, TextClause] = {table.name: _upsert_statement(table) for table in TABLES}
INSERTS: dict[str, TextClause] = {
    table.name: with_notices(f"{_insert_sql(table)} RETURNING {', '.join(table.columns)}", table.name, table.key)
    for table in TABLES if table.minted}
"""New rows of the tables whose keys events mint, each announced."""
UNANNOUNCED_INSERTS: dict[str, TextClause] = {table.name: text(_insert_sql(table)) for table in TABLES if table.minted}
"""The same rows for tables no one follows (a rebuild's shadow): no notice."""

_SET_ASIDE = tuple(column for column in DEAD_LETTERS.columns if column != "recorded_at")
"""A dead letter's columns but its time, which the database's clock gives."""
_DEAD_LETTER = text(
    f"INSERT INTO {DEAD_LETTERS.name} (trust_id, {', '.join(_SET_ASIDE)}) "
    f"VALUES (:trust_id, {', '.join(f':{column}' for column in _SET_ASIDE)}) "
    f"ON CONFLICT (trust_id, {', '.join(DEAD_LETTERS.key)}) DO UPDATE SET reason = EXCLUDED.reason, recorded_at = now()"
)


@dataclass
class ApplyOutcome:
    """What happened to a run of one trust's events."""

    applied: int = 0
    dead_letters: list[Rejected] = field(default_factory=list)
    last_sequence: int | None = None

    def merge(self, other: ApplyOutcome) -> None:
        self.applied += other.applied
        self.dead_letters.extend(other.dead_letters)
        if other.last_sequence is not None:
            self.last_sequence = other.last_sequence


def lock_position(connection: Connection, trust_id: str) -> int:
    """Lock the trust's ``rm_positions`` row (creating it if missing) and return ``last_applied``.

    The lock serialises projector instances (and rebuilds) working on the same trust, and so
    also the numbering of its change notices (whose head row is created here, in the same statement).
    """
    connection.execute(
        text(f"WITH head AS ({ENSURE_HEAD}) "
             "INSERT INTO rm_positions (trust_id) VALUES (:trust_id) ON CONFLICT (trust_id) DO NOTHING"),
        {"trust_id": trust_id},
    )
    return int(connection.execute(
        text("SELECT last_applied FROM rm_positions WHERE trust_id = :trust_id FOR UPDATE"),
        {"trust_id": trust_id},
    ).scalar_one())


def set_position(connection: Connection, trust_id: str, last_applied: int) -> None:
    """Record ``last_applied`` and tell listeners (reports' read-your-writes wait) at commit."""
    connection.execute(
        text("UPDATE rm_positions SET last_applied = :last, updated_at = now() WHERE trust_id = :trust_id"),
        {"last": last_applied, "trust_id": trust_id},
    )
    notify(connection, PROJECTED, f"{trust_id}:{last_applied}")


def write_rows(connection: Connection, trust_id: str, projection: Projection, sequence: int,
               new_unannounced: bool = False, upsert_all: bool = False) -> None:
    """One statement per table that has rows in ``projection`` (and one per table it removed rows of); its
    changes are announced as of ``sequence``.

    In tables whose keys events mint (``Table.minted``) the rows the fold made from nothing (none was loaded under
    their key) are new to the table, so they are inserted by a statement of their own without the upsert's
    conflict check (with ``new_unannounced``, without change notices either): a new judgement, most of what the
    projector writes, costs PostgreSQL ~3 µs less. ``upsert_all`` upserts every row instead (see
    :func:`apply_events`)."""
    for table in TABLES:
        rows = projection.table_rows(table)
        if table.minted and not upsert_all:
            new, rows = _new_and_stored(table, rows, projection.loaded.rows.get(table.name, {}))
            if new:
                inserts = UNANNOUNCED_INSERTS if new_unannounced else INSERTS
                connection.execute(inserts[table.name], {"trust_id": trust_id, "notice_sequence": sequence,
                                                         **array_params(table.columns, new)})
        if rows:
            connection.execute(UPSERTS[table.name], {"trust_id": trust_id, "notice_sequence": sequence,
                                                     **array_params(table.columns, rows)})
        if removals := projection.table_removals(table):
            delete(connection, trust_id, table, removals, sequence)


def _new_and_stored(table: Table, rows: list[Row], stored: dict[Key, Row]) -> tuple[list[Row], list[Row]]:
    """``rows`` split into those made from nothing and those whose key was loaded (one pass: a replay's chunk)."""
    if not stored:
        return rows, []
    new: list[Row] = []
    amended: list[Row] = []
    for row in rows:
        (amended if table.key_of(row) in stored else new).append(row)
    return new, amended


def write_dead_letters(connection: Connection, trust_id: str, rejected: Sequence[Rejected]) -> None:
    if rejected:
        connection.execute(_DEAD_LETTER, [
            {"trust_id": trust_id, "sequence": r.event.sequence, "event_id": r.event.event_id,
             "event_type": r.event.event_type, "reason": r.reason[:MAX_REASON]}
            for r in rejected
        ])


def apply_events(connection: Connection, trust_id: str, events: Sequence[StoredEvent],
                 parsed: ParsedBatch | None = None, new_unannounced: bool = False) -> ApplyOutcome:
    """Apply ``events`` (one trust's, in sequence order) as one batch; set poison events aside.

    ``parsed`` is ``parse_batch(events)`` when the caller parsed them already (a catch-up from the store or a
    rebuild reads and parses the next page while the database writes this one: ``read_models.read_ahead``).

    The rows the fold made from nothing in tables whose keys events mint (``Table.minted``) — most of the rows,
    each a new judgement — are inserted without the upsert's conflict check (:func:`write_rows`); with
    ``new_unannounced``, for tables no one follows until a switch announces what changed (a rebuild's shadow),
    without their change notices too. Should such a row be there after all, the insert fails and the batch is
    applied again with every row upserted, before any event is taken for the cause.

    Events that fail validation, or amend something the trust does not have (a correction
    of an unknown judgement, a move of an unknown pupil), go straight to ``dead_letters``
    and change nothing, as a rebuild would find them again. If the batch's writes fail
    in the database (a constraint, a value out of range), the batch is rolled back to its
    savepoint and retried in halves, down to single events, so only the offending events
    are set aside and the trust's pipeline keeps moving. Halving keeps the number of
    savepoints (each holds locks until the transaction ends) logarithmic in the batch size
    rather than one per event, which exhausted PostgreSQL's lock table on large batches.
    """
    if not events:
        return ApplyOutcome()
    outcome = ApplyOutcome(last_sequence=events[-1].sequence)
    _apply_or_split(connection, trust_id, events, outcome, parsed=parsed, new_unannounced=new_unannounced)
    return outcome


def _apply_or_split(connection: Connection, trust_id: str, events: Sequence[StoredEvent], outcome: ApplyOutcome,
                    *, parsed: ParsedBatch | None = None, new_unannounced: bool = False,
                    upsert_all: bool = False) -> None:
    """Apply ``events`` under a savepoint, adding to ``outcome``; if the database refuses, see
    :func:`apply_events`. ``parsed`` is the parse of exactly ``events``, so a half is parsed again."""
    try:
        with connection.begin_nested():
            batch = parse_batch(events) if parsed is None else parsed
            projection = _apply(connection, trust_id, batch, events[-1].sequence, new_unannounced, upsert_all)
            write_dead_letters(connection, trust_id, projection.rejected)
    except DBAPIError as exc:
        if not upsert_all:  # a row taken for new was there, or a row was refused: again, every row upserted
            _apply_or_split(connection, trust_id, events, outcome, parsed=parsed, new_unannounced=new_unannounced,
                            upsert_all=True)
            return
        if len(events) > 1:
            middle = len(events) // 2
            for half in (events[:middle], events[middle:]):
                _apply_or_split(connection, trust_id, half, outcome, new_unannounced=new_unannounced,
                                upsert_all=True)
            return
        rejected = [Rejected(events[0], _database_reason(exc))]
        write_dead_letters(connection, trust_id, rejected)
        outcome.dead_letters.extend(rejected)
        return
    outcome.applied += projection.applied
    outcome.dead_letters.extend(projection.rejected)


def _apply(connection: Connection, trust_id: str, batch: ParsedBatch, sequence: int,
           new_unannounced: bool = False, upsert_all: bool = False) -> Projection:
    """Load what the batch amends, fold it, write the rows, then refresh the cells and class counts it touched.

    Every change is announced as of ``sequence``, the batch's last event: the row reflects the log
    up to it, so a reader asking for ``consistency=at_least:<sequence>`` sees at least that row.
    """
    projection = project(batch, load(connection, trust_id, wanted(batch)), keeps_cells=cells_kept(connection))
    write_rows(connection, trust_id, projection, sequence, new_unannounced, upsert_all)
    refresh(connection, trust_id, projection, sequence)
    refresh_touched(connection, trust_id, projection)
    return projection


def _database_reason(error: DBAPIError) -> str:
    first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error).__name__
    return f"database rejected the rows: {first_line}"


def apply_from_store(connection: Connection, trust_id: str, after: int, until: int | None = None,
                     store: ReadAhead | None = None, read_on: bool = True,
                     new_unannounced: bool = False) -> ApplyOutcome:
    """Apply the stored events ``after < sequence <= until`` (all after ``after`` if None), page by page; with
    ``store``, each next page read and parsed on its connection while this one is written, and after the last the
    page a next call is likely to start with if ``read_on`` (see :mod:`~fathom_shared.read_models.read_ahead`).
    ``new_unannounced`` as for :func:`apply_events`."""
    outcome = ApplyOutcome()
    for page in (store or ReadAhead(None, trust_id)).pages(connection, after, until, read_on):
        outcome.merge(apply_events(connection, trust_id, page.events, page.parsed, new_unannounced))
    return outcome
