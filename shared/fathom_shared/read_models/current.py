"""``rm_pupil_objective``: each cell's current judgement, kept by the trust's rollup method.

A cell is (pupil, objective, source). Its row is derived from the cell's non-withdrawn
``rm_judgements`` by :func:`fathom_shared.read_models.rollup.current_judgement`, so it runs after the
batch's judgement rows are written. Only the cells a batch touched are recomputed; a
rollup change recomputes them all.

The common case (new judgements only, method ``latest``) skips the recompute: the cell's
new newest judgement is merged into the stored row by one upsert. It gives the same rows
as a recompute because a new judgement's sequence is above every stored one, so on the
same day the new one is the later (the integration tests compare both ways).

A replay into tables that are swapped in afterwards (the online rebuild's shadow) need not keep
the cells batch by batch: it defers them (:func:`defer_to_derive`) and derives every cell once at
the end (:func:`derive_all`), for ``latest`` in one statement. Keeping them batch by batch was
the largest part of a rebuild's database work (upserting each chunk's cells again and again).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, text

from fathom_shared.db import setting_for
from fathom_shared.planning import fetch_each_without_sorts
from fathom_shared.read_models.arrays import array_params, selected, unnest
from fathom_shared.read_models.band_counts import defer_to_recount
from fathom_shared.read_models.band_counts import refresh_all as recount_classes
from fathom_shared.read_models.by_key import delete
from fathom_shared.read_models.notices import changed_only, with_notices
from fathom_shared.read_models.projection import FreshCell, Projection
from fathom_shared.read_models.rollup import Current, JudgementFact, current_judgement
from fathom_shared.read_models.tables import (
    DEFAULT_SETTINGS,
    JUDGEMENTS,
    OBJECTIVES,
    PUPIL_OBJECTIVE,
    SCALES,
    TRUST_SETTINGS,
    CellKey,
)

TABLE = PUPIL_OBJECTIVE.name
CELL = PUPIL_OBJECTIVE.key
COLUMNS = PUPIL_OBJECTIVE.columns
CHUNK = 5000
"""Cells written per statement when recomputing a whole trust."""
NEEDS_BANDS = {"mean_last_n", "secure_n_times"}
_DERIVED_IN_ONE_STATEMENT = "latest"
"""The rollup whose cells :func:`derive_all` derives in one statement; the others go through Python."""
FACT_COLUMNS = (*CELL, "judgement_id", "value", "assessed_on", "sequence", "note")
"""The ``rm_judgements`` columns a cell's :class:`JudgementFact` is read from."""
DEFERRED = "fathom_cells_deferred"
"""The execution option of a connection whose batches leave the cells to one :func:`derive_all`."""
DERIVE_MEMORY = "256MB"
"""``work_mem`` of the one statement that derives a trust's ``latest`` cells: it groups every judgement of the trust
and hashes them all for a join, which in the default 4 MB spill to disk (a million judgements' cells: 1.1–1.7 s
against 1.1–1.5 s, four runs each in turn; when the statement sorted them, 200,000 judgements' took 1.3–1.6 s
against 0.9–1.2 s)."""


def _cell_of(alias: str) -> str:
    """``(p.pupil_id, p.objective_id, p.source)``: a row's cell, to compare or return."""
    return f"({', '.join(f'{alias}.{c}' for c in CELL)})"


_INSERT = (f"INSERT INTO {TABLE} (trust_id, {', '.join(COLUMNS)}) "
           f"SELECT :trust_id, {selected(COLUMNS)} FROM {unnest(COLUMNS)} "
           f"ON CONFLICT (trust_id, {', '.join(CELL)}) DO UPDATE SET ")
_NEWER = f"{TABLE}.assessed_on <= EXCLUDED.assessed_on"
_RETURNING = f" RETURNING {', '.join(COLUMNS)}"
_MERGE_NEW = with_notices(_INSERT + ", ".join(
    [f"{c} = CASE WHEN {_NEWER} THEN EXCLUDED.{c} ELSE {TABLE}.{c} END"
     for c in ("value", "assessed_on", "note", "event_id")]
    + [f"sequence = greatest({TABLE}.sequence, EXCLUDED.sequence)",
       f"judgements = {TABLE}.judgements + EXCLUDED.judgements"]) + _RETURNING, TABLE, CELL)
_REPLACE = with_notices(_INSERT + ", ".join(f"{c} = EXCLUDED.{c}" for c in PUPIL_OBJECTIVE.values)
                        + changed_only(TABLE, COLUMNS, CELL) + _RETURNING, TABLE, CELL)
_DELETE_UNJUDGED = with_notices(
    f"DELETE FROM {TABLE} p WHERE p.trust_id = :trust_id AND NOT EXISTS (SELECT FROM {JUDGEMENTS.name} j "
    f"WHERE j.trust_id = p.trust_id AND {_cell_of('j')} = {_cell_of('p')} AND j.status <> 'withdrawn') "
    f"RETURNING {_cell_of('p')[1:-1]}", TABLE, CELL, deleted=True)
_JUDGED_CELL = _cell_of("j")[1:-1]
_JUDGEMENTS = f"SELECT {', '.join(f'j.{c}' for c in FACT_COLUMNS)} FROM {JUDGEMENTS.name} j "
_JUDGEMENTS_OF = (_JUDGEMENTS + "WHERE j.trust_id = %(trust_id)s AND j.pupil_id = ANY(CAST(%(pupil_ids)s AS text[])) "
                  "AND j.objective_id = ANY(CAST(%(objective_ids)s AS text[])) AND j.status <> 'withdrawn' "
                  "ORDER BY j.pupil_id, j.objective_id")
"""The judgements of some pupils on some objectives, for the driver: looked up in ``rm_judgements_pupil_objective`` by
``= ANY`` of both, in its order, planned without sorts (:mod:`fathom_shared.planning`), so that index is the only
plan whatever the statistics say of the trust. Joined with the cells, the trust's every judgement was hashed when
the statistics estimated the trust at one row. Asked once for every pupil and objective of a batch's cells, it read
every pair of the two, for scattered cells far more than the cells (:func:`_pupils_and_objectives`)."""
_ALL_JUDGEMENTS = text(_JUDGEMENTS + "WHERE j.trust_id = :trust_id AND j.status <> 'withdrawn' "
                       f"ORDER BY {_JUDGED_CELL}")
_DELETE_ALL = text(f"DELETE FROM {TABLE} WHERE trust_id = :trust_id")
SEQUENCE_BITS = 40
"""The low bits of :data:`_DERIVE_LATEST`'s ordering key, which hold a judgement's sequence: room for 2⁴⁰ (about
10¹²) events in one trust, and above them the day, any date Python has (years 1 to 9999) within a signed bigint."""
_DAY_THEN_SEQUENCE = f"(k.assessed_on - DATE '2000-01-01')::bigint * {1 << SEQUENCE_BITS} + k.sequence"
_DERIVE_LATEST = text(
    f"INSERT INTO {TABLE} (trust_id, {', '.join(COLUMNS)}) "
    f"SELECT j.trust_id, {_JUDGED_CELL}, j.value, j.assessed_on, j.note, j.judgement_id, cell.last, cell.judgements "
    f"FROM (SELECT max({_DAY_THEN_SEQUENCE}) & {(1 << SEQUENCE_BITS) - 1} AS newest, "
    "max(k.sequence) AS last, count(*) AS judgements "
    f"FROM {JUDGEMENTS.name} k WHERE k.trust_id = :trust_id AND k.status <> 'withdrawn' "
    f"GROUP BY {_cell_of('k')[1:-1]}) cell "
    f"JOIN {JUDGEMENTS.name} j ON j.trust_id = :trust_id AND j.sequence = cell.newest")
"""Every cell by ``latest`` in SQL: the last judgement by ``(assessed_on, sequence)`` gives the value, date, note
and id; the cell's highest sequence and its count of judgements come from all of them (what
:func:`~fathom_shared.read_models.rollup.current_judgement` gives; ``tests/integration/test_derived_cells.py``
compares the two on random histories). Each cell's last judgement is found by grouping, not sorting: the largest
``day × 2⁴⁰ + sequence`` names it by its low bits, its sequence, which is its
``JudgementRecorded`` event's and so the trust's only judgement with it, and one hash join fetches its row (run with
nested loops off: when the statistics estimated the trust at one judgement, as for a trust onboarded since the last
``ANALYZE`` or a shadow last analysed holding another trust, the planner joined each cell to the trust's every
judgement, for minutes: ``tests/integration/test_read_model_statistics.py``). A
million judgements in 60,000 cells of a shadow table (no index but the key): 1.0–1.2 s against 1.75–2.1 s for
the one sort of every judgement, ``DISTINCT ON`` the cell, that served before (four runs each, in turn). Beside
a rebuild's comparison of the judgements, which takes about as long, the time after the replay came out 0.91× and
PostgreSQL's CPU in it 0.88× (medians of four rebuilds of a million judgements each way, in turn). The key was the
array ``[day, sequence]`` until 2026-12-07: each row's array is built in memory and compared element by element,
where one ``bigint`` is added and compared in place; the cells of a million judgements (the rebuild benchmark's
trust), six runs each way in turn, 0.80× the time (2.30 against 2.86 s, lower in every round)."""
_SETTINGS = text(f"SELECT rollup_method, rollup_n FROM {TRUST_SETTINGS.name} WHERE trust_id = :trust_id")
_BANDS = text("SELECT o.objective_id, s.bands FROM rm_objectives o JOIN rm_scales s "
              "ON s.trust_id = o.trust_id AND s.scale_id = o.scale_id WHERE o.trust_id = :trust_id")
_BANDS_OF = text(_BANDS.text + " AND o.objective_id = ANY(CAST(:objective_ids AS text[]))")


def refresh(connection: Connection, trust_id: str, projection: Projection, sequence: int) -> None:
    """Bring the cells ``projection`` touched (all of them on a rollup change) up to date.

    Changed cells are announced as change notices as of ``sequence``.
    """
    if not cells_kept(connection):
        return
    settings = projection.settings()
    method, n = settings["rollup_method"], settings["rollup_n"]
    if projection.rollup_changed:
        recompute_all(connection, trust_id, method, n, sequence)
        return
    merged = {cell: fresh for cell, fresh in projection.fresh.items()
              if method == "latest" and cell not in projection.amended}
    if merged:
        connection.execute(_MERGE_NEW, {"trust_id": trust_id, "notice_sequence": sequence, **array_params(
            COLUMNS, [_fresh_row(cell, fresh) for cell, fresh in merged.items()])})
    recompute_cells(connection, trust_id, (set(projection.fresh) | projection.amended) - set(merged), method, n,
                    sequence)


def recompute_cells(connection: Connection, trust_id: str, cells: Iterable[CellKey], method: str,
                    n: int | None, sequence: int) -> None:
    """Recompute ``cells`` from their judgements: one read, one upsert, one delete."""
    cells = list(cells)
    if not cells:
        return
    facts: dict[CellKey, list[JudgementFact]] = {cell: [] for cell in cells}
    looked_up = [{"trust_id": trust_id, "pupil_ids": pupil_ids, "objective_ids": objective_ids}
                 for pupil_ids, objective_ids in _pupils_and_objectives(facts)]
    for row in fetch_each_without_sorts(connection, _JUDGEMENTS_OF, looked_up):
        if (cell := (row[0], row[1], row[2])) in facts:  # another source's judgement of a cell's pupil and objective
            facts[cell].append(_fact(row))
    bands = _bands(connection, trust_id, {cell[1] for cell in cells}) if method in NEEDS_BANDS else {}
    current = {cell: current_judgement(f, method, n, bands.get(cell[1], ())) for cell, f in facts.items()}
    _write(connection, trust_id, [_current_row(cell, c) for cell, c in current.items() if c is not None], sequence)
    if gone := [cell for cell, c in current.items() if c is None]:
        delete(connection, trust_id, PUPIL_OBJECTIVE, gone, sequence)


def _pupils_and_objectives(cells: Iterable[CellKey]) -> list[tuple[list[str], list[str]]]:
    """``cells``' pupils and objectives as pairs of lists whose every pupil-objective pair is a cell's: objectives
    together whose cells are of the same pupils. A class's batch (its pupils on some objectives) is one pair;
    cells scattered over the trust (corrections) are one pair an objective, not every pupil on every objective."""
    pupils_of: dict[str, set[str]] = {}
    for pupil, objective, _source in cells:
        pupils_of.setdefault(objective, set()).add(pupil)
    objectives_of: dict[frozenset[str], list[str]] = {}
    for objective, pupils in pupils_of.items():
        objectives_of.setdefault(frozenset(pupils), []).append(objective)
    return [(sorted(pupils), sorted(objectives)) for pupils, objectives in objectives_of.items()]


def recompute_all(connection: Connection, trust_id: str, method: str, n: int | None,
                  sequence: int | None = None) -> None:
    """Rederive every cell of the trust (a rollup change), streaming the judgements cell by cell.

    Cells are rewritten in place rather than deleted and re-inserted, so only the cells whose
    value actually changed are announced (as of ``sequence``; the trust's position if None).
    A cell exists exactly while it has a judgement that is not withdrawn, so the sweep at the
    end deletes nothing unless the table had drifted. The class counts are recounted from the new cells.
    """
    if sequence is None:
        sequence = int(connection.execute(text("SELECT coalesce(max(last_applied), 0) FROM rm_positions "
                                               "WHERE trust_id = :trust_id"), {"trust_id": trust_id}).scalar_one())
    _stream_cells(connection, trust_id, method, n, sequence)
    connection.execute(_DELETE_UNJUDGED, {"trust_id": trust_id, "notice_sequence": sequence})
    recount_classes(connection, trust_id)


def defer_to_derive(connection: Connection) -> None:
    """From now on ``connection`` (one unit of work) applies batches without keeping the cells they touch, nor
    the class counts (counted from the cells): the caller promises a :func:`derive_all`, then a class recount,
    before anyone reads the tables (a rebuild's shadow, swapped in after both)."""
    connection.execution_options(**{DEFERRED: True})
    defer_to_recount(connection)


def cells_kept(connection: Connection) -> bool:
    """Whether ``connection``'s batches keep the cells they touch (not after :func:`defer_to_derive`)."""
    return not connection.get_execution_options().get(DEFERRED)


def derive_all(connection: Connection, trust_id: str) -> None:
    """Every cell of the trust anew from its judgements, by its rollup method: for tables that are swapped in
    afterwards, whose changes the swap announces (a rebuild's shadow, which has no change feed of its own).

    ``latest`` (the default) is one statement (:data:`_DERIVE_LATEST`); the other methods stream the judgements
    through :func:`~fathom_shared.read_models.rollup.current_judgement`. The class counts are left to the caller.
    ``mean_last_n`` and ``secure_n_times`` use the objectives' scale bands as they stand now, as a rollup change
    and time travel do; the live writer keeps each cell by the bands of the batch that touched it last, so after
    an objective was given another scale a rebuild rederives (and its switch announces) the cells that changes.
    """
    method, n = rollup_of(connection, trust_id)
    connection.execute(_DELETE_ALL, {"trust_id": trust_id})
    if method != _DERIVED_IN_ONE_STATEMENT:
        _stream_cells(connection, trust_id, method, n, sequence=0)
        return
    with setting_for(connection, "work_mem", DERIVE_MEMORY), setting_for(connection, "enable_nestloop", "off"):
        connection.execute(_DERIVE_LATEST, {"trust_id": trust_id})


def derives_in_one_statement(connection: Connection, trust_id: str) -> bool:
    """Whether :func:`derive_all` derives the trust's cells in one statement (the ``latest`` rollup) rather than
    taking every judgement through Python."""
    return rollup_of(connection, trust_id)[0] == _DERIVED_IN_ONE_STATEMENT


def rollup_of(connection: Connection, trust_id: str) -> tuple[str, int | None]:
    """The trust's rollup method and its ``n``, as the tables the connection writes hold them."""
    settings = connection.execute(_SETTINGS, {"trust_id": trust_id}).first()
    if settings is None:
        return DEFAULT_SETTINGS["rollup_method"], DEFAULT_SETTINGS["rollup_n"]
    return settings.rollup_method, settings.rollup_n


def _stream_cells(connection: Connection, trust_id: str, method: str, n: int | None, sequence: int) -> None:
    """Every judged cell's row by ``method``, written (and announced as of ``sequence``) a chunk at a time."""
    bands = _bands(connection, trust_id) if method in NEEDS_BANDS else {}
    rows = connection.execute(_ALL_JUDGEMENTS, {"trust_id": trust_id}, execution_options={"yield_per": CHUNK})
    cells = itertools.groupby(rows, key=lambda r: (r.pupil_id, r.objective_id, r.source))
    currents = ((cell, current_judgement([_fact(r) for r in group], method, n, bands.get(cell[1], ())))
                for cell, group in cells)
    for chunk in _chunks((_current_row(cell, c) for cell, c in currents if c is not None), CHUNK):
        _write(connection, trust_id, chunk, sequence)


def current_rows(projection: Projection) -> list[dict[str, Any]]:
    """Every cell's row derived from ``projection``'s judgement rows alone: what :func:`recompute_all` writes
    when the tables hold exactly those rows (used to fill throw-away copies without a round trip)."""
    settings = projection.settings()
    method, n = settings["rollup_method"], settings["rollup_n"]
    facts: dict[CellKey, list[JudgementFact]] = {}
    for row in projection.rows.get(JUDGEMENTS.name, {}).values():
        if row["status"] != "withdrawn":
            facts.setdefault((row["pupil_id"], row["objective_id"], row["source"]), []).append(JudgementFact(
                row["judgement_id"], row["value"], row["assessed_on"], row["sequence"], row["source"], row["note"]))
    bands = _folded_bands(projection) if method in NEEDS_BANDS else {}
    currents = ((cell, current_judgement(f, method, n, bands.get(cell[1], ()))) for cell, f in facts.items())
    return [_current_row(cell, current) for cell, current in currents if current is not None]


def _folded_bands(projection: Projection) -> Mapping[str, list[dict[str, Any]]]:
    """Each objective's scale bands among ``projection``'s rows, as :func:`_bands` joins them in SQL."""
    scales = projection.rows.get(SCALES.name, {})
    return {objective["objective_id"]: scales[(objective["scale_id"],)]["bands"]
            for objective in projection.rows.get(OBJECTIVES.name, {}).values() if (objective["scale_id"],) in scales}


def _write(connection: Connection, trust_id: str, rows: Sequence[dict[str, Any]], sequence: int) -> None:
    if rows:
        connection.execute(_REPLACE, {"trust_id": trust_id, "notice_sequence": sequence,
                                      **array_params(COLUMNS, rows)})


def _bands(connection: Connection, trust_id: str, objective_ids: set[str] | None = None,
           ) -> Mapping[str, list[dict[str, Any]]]:
    """Each objective's scale bands: all the trust's, or those of ``objective_ids``."""
    if objective_ids is None:
        return {r.objective_id: r.bands for r in connection.execute(_BANDS, {"trust_id": trust_id})}
    return {r.objective_id: r.bands for r in connection.execute(
        _BANDS_OF, {"trust_id": trust_id, "objective_ids": list(objective_ids)})}


def _fact(row: Row[Any] | tuple[Any, ...]) -> JudgementFact:
    """A row of :data:`FACT_COLUMNS`, by position (the driver's tuple or the toolkit's row)."""
    _, _, source, judgement_id, value, assessed_on, sequence, note = row
    return JudgementFact(judgement_id, value, assessed_on, sequence, source, note)


def _current_row(cell: CellKey, current: Current) -> dict[str, Any]:
    latest = current.latest
    return {**dict(zip(CELL, cell, strict=True)), "value": current.value, "assessed_on": latest.assessed_on,
            "note": latest.note, "event_id": latest.judgement_id, "sequence": current.sequence,
            "judgements": current.judgements}


def _fresh_row(cell: CellKey, fresh: FreshCell) -> dict[str, Any]:
    newest = fresh.newest
    row = dict(zip(CELL, cell, strict=True))
    row.update(value=newest["value"], assessed_on=newest["assessed_on"], note=newest["note"],
               event_id=newest["judgement_id"], sequence=fresh.sequence, judgements=fresh.count)
    return row


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
