"""``rm_class_band_counts``: per class, source, objective and value, how many current pupils are judged so.

Pooled school and trust analyses need only these totals, and counting them from ``rm_pupil_objective`` on
every read was most of a trust analysis's first render. So the count is defined once, here, as SQL
(:data:`COUNT`) over a relation of (pupil, class) members, and used three ways:

- the live writer (:func:`refresh_touched`) recounts, after ``rm_pupil_objective`` is up to date and in the
  batch's transaction, what the batch touched: in the classes of pupils whose cells it changed, the rows of
  the objectives of those cells; both the old and the new class of pupils who joined, moved or left, whole;
- whatever rederives every cell (a rollup change, a fill of empty tables, a rebuild's end or switch)
  recounts the whole trust (:func:`refresh_all`); a replay of a whole log defers the per-batch recounts
  to that one count (:func:`defer_to_recount`): recounting the classes of each of hundreds of batches
  cost more than counting the trust once;
- a pooled read of the live models with no pupil-group filter reads the kept rows; with a group filter,
  or at a past moment, it runs :data:`COUNT` over the pupils in view (:func:`counts_of_members`).

The statements name tables unqualified, like the rest of the writer, so they count and keep the shadow or
scratch copies when those come first on the ``search_path`` (:mod:`fathom_shared.read_models.target`).
The rows are not announced in the change feed: they are a function of ``pupils`` and ``pupil_objective``,
whose changes are announced, and one judgement would otherwise announce two count changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from fathom_shared.db import setting_for
from fathom_shared.read_models.projection import Projection
from fathom_shared.read_models.tables import CLASS_BAND_COUNTS, PUPIL_OBJECTIVE, PUPILS

TABLE = CLASS_BAND_COUNTS.name
KEY = CLASS_BAND_COUNTS.key
DEFERRED = "fathom_class_counts_deferred"
"""The execution option of a connection whose batches leave the counts to one :func:`refresh_all`."""

CURRENT_MEMBERS = (f"SELECT p.pupil_id, p.class_id FROM {PUPILS.name} p "
                   "WHERE p.trust_id = :trust_id AND p.left_on IS NULL AND p.class_id IS NOT NULL")
"""A class's current pupils: those in it today who have not left (a pooled view's pupils before any filter)."""

COUNT = ("SELECT m.class_id, po.source, po.objective_id, po.value, count(*)::integer AS pupils "
         "FROM ({members}) AS m(pupil_id, class_id) CROSS JOIN LATERAL (SELECT c.source, c.objective_id, c.value "
         "FROM {cells} c WHERE c.trust_id = :trust_id AND c.pupil_id = m.pupil_id OFFSET 0) AS po "
         "GROUP BY m.class_id, po.source, po.objective_id, po.value")
"""The one definition of the counts: ``{members}`` is a query of (pupil_id, class_id) pairs, ``{cells}`` the
cells counted (``rm_pupil_objective``, or those of some objectives).

Each member's cells are found by its pupil (the ``LATERAL`` subquery, kept apart from the join by ``OFFSET 0``),
whatever the statistics say. As a plain join it was planned from the statistics of the last ``ANALYZE``, and
for a trust that grew since (a new trust's history imported, a backlog caught up) they promise a handful of
cells: the plan then scanned every cell of the trust and probed each against the members, so a batch
recounting one class of 30 pupils read 443,160 cells of a 14,400-cell trust, and catching up a 180,000-event
backlog slowed as the trust grew (PostgreSQL used 52 s of CPU where it needs 18)."""


def _refresh(named_classes: bool, named_objectives: bool = False) -> str:
    """Make the kept rows of the classes ``:class_ids`` (``named_classes``, else every class) equal :data:`COUNT`;
    with ``named_objectives`` only their rows of the objectives ``:objective_ids``.

    One statement: rows the count no longer has are deleted, new or different ones upserted. The rows to delete
    are the kept keys ``EXCEPT`` the counted ones, worked out once (``MATERIALIZED``), then deleted by key among
    the same kept rows. As ``NOT EXISTS (… counted …)`` it was planned as a nested loop comparing every kept row
    of the classes with every counted one (72,390 comparisons, 83 ms, for a 5,000-judgement batch over two
    classes). Inlined into the delete, the set difference was planned, from statistics that did not know the trust
    yet, as the inner side of a nested loop over every kept row of the trust, and worked out again for each: 1.85
    million rows read by one batch's recount in the benchmark's catch-up, more with every class caught up.
    """
    members, cells = CURRENT_MEMBERS, PUPIL_OBJECTIVE.name
    kept = ["trust_id = :trust_id"]
    if named_classes:
        members += " AND p.class_id = ANY(CAST(:class_ids AS text[]))"
        kept.append("class_id = ANY(CAST(:class_ids AS text[]))")
    if named_objectives:
        cells = (f"(SELECT * FROM {PUPIL_OBJECTIVE.name} WHERE trust_id = :trust_id "
                 "AND objective_id = ANY(CAST(:objective_ids AS text[])))")
        kept.append("objective_id = ANY(CAST(:objective_ids AS text[]))")

    def kept_of(alias: str) -> str:
        return " AND ".join(f"{alias}.{condition}" for condition in kept)

    columns = ", ".join(CLASS_BAND_COUNTS.columns)
    key = ", ".join(KEY)
    return (f"WITH counted AS ({COUNT.format(members=members, cells=cells)}), "
            f"stale AS MATERIALIZED (SELECT {', '.join(f'k.{column}' for column in KEY)} FROM {TABLE} k "
            f"WHERE {kept_of('k')} EXCEPT SELECT {key} FROM counted), "
            f"gone AS (DELETE FROM {TABLE} d USING stale s WHERE {kept_of('d')} AND "
            f"{' AND '.join(f'd.{column} = s.{column}' for column in KEY)}) "
            f"INSERT INTO {TABLE} (trust_id, {columns}) SELECT :trust_id, {columns} FROM counted "
            f"ON CONFLICT (trust_id, {key}) DO UPDATE SET pupils = EXCLUDED.pupils "
            f"WHERE {TABLE}.pupils <> EXCLUDED.pupils")


_CLASSES_OF = text(f"SELECT DISTINCT class_id FROM {PUPILS.name} WHERE trust_id = :trust_id "
                   "AND pupil_id = ANY(CAST(:pupil_ids AS text[])) AND class_id IS NOT NULL")
"""The classes the pupils are in now: asked first, so the recount is planned for a known number of classes
(one statement taking the pupils was planned for dozens of classes and scanned every cell of the trust)."""
_REFRESH_CLASSES = text(_refresh(named_classes=True))
_REFRESH_OBJECTIVES = text(_refresh(named_classes=True, named_objectives=True))
FEW_OBJECTIVES = 10
"""Up to this many objectives, a batch's judged classes are recounted for those objectives only (the cells
found by objective); with more, the classes are recounted whole (their pupils' cells found by pupil): a
batch marking a class across the curriculum reads its classes' cells either way, and finding a hundred
objectives' cells by objective cost twice as much as finding them by pupil."""
_REFRESH_ALL = text(_refresh(named_classes=False))
_GIVEN_MEMBERS = "SELECT * FROM unnest(CAST(:pupil_ids AS text[]), CAST(:class_ids AS text[]))"
_VIEW_CELLS = (f"(SELECT * FROM {PUPIL_OBJECTIVE.name} WHERE trust_id = :trust_id AND source = :source "
               "AND objective_id = ANY(CAST(:objective_ids AS text[])))")
_COUNT_MEMBERS = text(
    f"SELECT c.class_id, c.objective_id, c.value, c.pupils "
    f"FROM ({COUNT.format(members=_GIVEN_MEMBERS, cells=_VIEW_CELLS)}) c")
"""Only the view's source and objectives, asked with each member's pupil so the key's index finds just those cells.
Asked of the count's result instead, they could not reach past its ``OFFSET 0``: every cell of every member, all
sources and objectives, was read and then dropped (2,400 for 120 in ``tests/integration/test_reads_statistics.py``)."""
_READ_KEPT = text(
    f"SELECT class_id, objective_id, value, pupils FROM {TABLE} WHERE trust_id = :trust_id "
    "AND class_id = ANY(CAST(:class_ids AS text[])) AND source = :source "
    "AND objective_id = ANY(CAST(:objective_ids AS text[]))")


def refresh_touched(connection: Connection, trust_id: str, projection: Projection) -> None:
    """Recount what ``projection``'s batch touched: whole classes a pupil joined or left, and in the classes of
    pupils whose cells it changed, the rows of those cells' objectives.

    A count of (class, objective) changes only when a cell of that objective of one of the class's pupils
    changes, or the class's pupils change; so recounting just the batch's objectives in the classes whose
    pupils it judged is exact, and a batch spread over every class of a large trust (a few objectives each)
    no longer recounts every cell of the trust (see :data:`FEW_OBJECTIVES`).

    Runs after ``rm_pupils`` and ``rm_pupil_objective`` hold the
    batch: a pupil's class is read from them, the class they left from the stored row the fold loaded.
    After a rollup change there is nothing left to do: rederiving every cell
    (:func:`fathom_shared.read_models.current.recompute_all`) recounted them all.
    """
    if projection.rollup_changed or connection.get_execution_options().get(DEFERRED):
        return
    cells = set(projection.fresh) | projection.amended
    pupil_ids = {cell[0] for cell in cells}
    class_ids: set[str] = set()
    stored = projection.loaded.rows.get(PUPILS.name, {})
    for key, row in projection.rows.get(PUPILS.name, {}).items():
        before = stored.get(key)
        if before is None or (before["class_id"], before["left_on"]) != (row["class_id"], row["left_on"]):
            class_ids.update(c for c in (row["class_id"], before and before["class_id"]) if c is not None)
    if class_ids:  # pupils joined, moved or left: their classes are recounted whole
        connection.execute(_REFRESH_CLASSES, {"trust_id": trust_id, "class_ids": sorted(class_ids)})
    judged = set(connection.execute(_CLASSES_OF, {"trust_id": trust_id, "pupil_ids": sorted(pupil_ids)})
                 .scalars()) - class_ids if pupil_ids else set()
    objective_ids = sorted({cell[1] for cell in cells})
    if judged and len(objective_ids) <= FEW_OBJECTIVES:
        connection.execute(_REFRESH_OBJECTIVES, {"trust_id": trust_id, "class_ids": sorted(judged),
                                                 "objective_ids": objective_ids})
    elif judged:
        connection.execute(_REFRESH_CLASSES, {"trust_id": trust_id, "class_ids": sorted(judged)})


def defer_to_recount(connection: Connection) -> None:
    """From now on ``connection`` (one unit of work) applies batches without recounting their classes: the
    caller promises a :func:`refresh_all` before it commits."""
    connection.execution_options(**{DEFERRED: True})


def refresh_all(connection: Connection, trust_id: str) -> None:
    """Recount every class of the trust: after every cell was rederived, or the tables were filled anew.

    The count probes each pupil's cells (:data:`COUNT`); the rest of the statement (the kept rows no longer
    counted, then deleted by key) is joined by hashing, never in nested loops: right after a rebuild filled
    the tables in this transaction the planner's statistics still describe the tables before it, and nested
    loops over what they call "a few" rows took 17 s where hashing takes a fraction of a second.
    """
    with setting_for(connection, "enable_nestloop", "off"):
        connection.execute(_REFRESH_ALL, {"trust_id": trust_id})


def read_kept(connection: Connection, trust_id: str, class_ids: Iterable[str], objective_ids: Iterable[str],
              source: str) -> list[tuple[str, str, int, int]]:
    """The kept (class, objective, value, pupils) rows of the classes and objectives, for one source."""
    return [tuple(r) for r in connection.execute(_READ_KEPT, {  # type: ignore[misc]
        "trust_id": trust_id, "class_ids": list(class_ids), "objective_ids": list(objective_ids), "source": source})]


def counts_of_members(connection: Connection, trust_id: str, members: Iterable[tuple[str, str]],
                      objective_ids: Iterable[str], source: str) -> list[tuple[str, str, int, int]]:
    """:data:`COUNT` over the (pupil, class) ``members`` given: a filtered or past view's pupils."""
    members = list(members)
    return [tuple(r) for r in connection.execute(_COUNT_MEMBERS, {  # type: ignore[misc]
        "trust_id": trust_id, "pupil_ids": [m[0] for m in members], "class_ids": [m[1] for m in members],
        "objective_ids": list(objective_ids), "source": source})]
