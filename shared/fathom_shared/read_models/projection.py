"""A batch being folded: the rows it amends, the rows as they stand after it, and what it set aside.

:class:`Projection` is the state :mod:`fathom_shared.read_models.fold` folds events over; the writer
(:mod:`fathom_shared.read_models.writer`) loads the stored rows into it and writes its rows out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, NamedTuple

from fathom_shared.event_store import StoredEvent
from fathom_shared.read_models.tables import DEFAULT_SETTINGS, PUPIL_CLASSES, TRUST_SETTINGS, CellKey, Key, Row, Table


class PoisonEvent(ValueError):
    """An event the projector cannot apply; it goes to ``dead_letters``."""


class Parsed(NamedTuple):
    """An event with its data upcast and validated. A tuple, as one is made for every event a projector, rebuild
    or past view folds: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, twice the
    time."""

    event: StoredEvent
    data: dict[str, Any]
    needs: tuple[tuple[Table, Key], ...]
    """The stored rows this event reads: (table, key); for ``rm_pupil_classes`` the key is (pupil_id,)."""


@dataclass(frozen=True)
class Rejected:
    event: StoredEvent
    reason: str


@dataclass
class Loaded:
    """Stored rows a batch amends, fetched before folding: table name -> key -> row.

    ``rm_pupil_classes`` holds only the pupils' open rows (``to_date`` null).
    """

    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)


@dataclass
class FreshCell:
    """New judgements of one cell in this batch: the newest, how many, the highest sequence."""

    newest: Row
    count: int
    sequence: int


@dataclass
class Projection:
    """One batch folded: the rows to write, the cells to refresh, the events set aside."""

    loaded: Loaded = field(default_factory=Loaded)
    rows: dict[str, dict[Key, Row]] = field(default_factory=dict)
    """Table name -> key -> the row as it stands after the batch."""
    removed: dict[str, set[Key]] = field(default_factory=dict)
    """Table name -> keys of rows the batch removed (none of them is also in ``rows``)."""
    rejected: list[Rejected] = field(default_factory=list)
    applied: int = 0
    fresh: dict[CellKey, FreshCell] = field(default_factory=dict)
    """Cells that gained judgements (in this batch's sequence order)."""
    amended: set[CellKey] = field(default_factory=set)
    """Cells whose judgements were corrected or withdrawn: these need a full recompute."""
    rollup_changed: bool = False
    """The trust's rollup method changed: every cell is recomputed."""
    keeps_cells: bool = True
    """Whether the fold notes the cells it touches (``fresh`` and ``amended``) for the writer to bring up to date.
    Not when the writer leaves the cells to one derivation afterwards (a rebuild's replay,
    :func:`~fathom_shared.read_models.current.defer_to_derive`): noting them was ~0.8 of the ~2.7 µs of CPU that
    folding a new judgement takes, and the replay is bound by its interpreter (its writer thread's CPU 0.81–0.99×,
    median 0.87×, six rebuilds of 300,000 judgements each way in turn; the replay's rate moved less than the host's
    noise)."""
    _open_class: dict[str, Key | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in sorted(self.loaded.rows.get(PUPIL_CLASSES.name, {}), key=lambda k: k[2]):
            self._open_class[key[0]] = key  # the latest open row, should there be more than one

    def get(self, table: Table, key: Key) -> Row | None:
        row = self.rows.get(table.name, {}).get(key)
        if row is not None or key in self.removed.get(table.name, ()):
            return row
        return self.loaded.rows.get(table.name, {}).get(key)

    def require(self, table: Table, key: Key, event: StoredEvent) -> Row:
        row = self.get(table, key)
        if row is None:
            raise PoisonEvent(f"{event.event_type}: no {table.name} row {'/'.join(map(str, key))} to amend")
        return row

    def put(self, table: Table, row: Row) -> None:
        key = table.key_of(row)
        rows = self.rows.get(table.name)
        if rows is None:
            rows = self.rows[table.name] = {}
        rows[key] = row
        if removed := self.removed.get(table.name):  # rarely any: not a second hash of every key (a UUID's is Python)
            removed.discard(key)

    def remove(self, table: Table, key: Key) -> None:
        """The row of ``key`` is gone after the batch (the writer deletes it, announcing the deletion)."""
        self.rows.get(table.name, {}).pop(key, None)
        self.removed.setdefault(table.name, set()).add(key)

    def table_removals(self, table: Table) -> list[Key]:
        return sorted(self.removed.get(table.name, ()))

    def put_first(self, table: Table, row: Row) -> None:
        self.rows.setdefault(table.name, {}).setdefault(table.key_of(row), row)

    def table_rows(self, table: Table) -> list[Row]:
        return list(self.rows.get(table.name, {}).values())

    def settings(self) -> Row:
        return self.get(TRUST_SETTINGS, ()) or dict(DEFAULT_SETTINGS)

    def move_class(self, pupil_id: str, on: date, class_id: str | None) -> None:
        """Close the pupil's open class membership on ``on`` and open one in ``class_id``.

        Staying in the same class (a re-registration, a change of year group only) changes nothing.
        """
        open_key = self._open_class.get(pupil_id)
        open_row = None if open_key is None else self.get(PUPIL_CLASSES, open_key)
        if open_row is not None and open_row["class_id"] == class_id:
            return
        if open_row is not None:
            self.put(PUPIL_CLASSES, {**open_row, "to_date": on})
            self._open_class[pupil_id] = None
        if class_id is not None:
            row = {"pupil_id": pupil_id, "class_id": class_id, "from_date": on, "to_date": None}
            self.put(PUPIL_CLASSES, row)
            self._open_class[pupil_id] = PUPIL_CLASSES.key_of(row)


@dataclass
class ParsedBatch:
    """A batch's events in sequence order, parsed; those that failed are already set aside."""

    parsed: list[Parsed] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def events(self) -> list[StoredEvent]:
        """The batch's events, parsed or set aside, in sequence order."""
        return sorted([*(p.event for p in self.parsed), *(r.event for r in self.rejected)], key=attrgetter("sequence"))
