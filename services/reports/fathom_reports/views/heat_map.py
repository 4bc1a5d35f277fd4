"""The Class Analysis heat map in its two encodings: ``full`` (the default) and ``compact`` (asked for).

``full`` is one row per pupil holding a dict of cells keyed by objective id, each cell the pupil's latest
judgement ``{value, label, secure, assessed_on, source}``. For 30 pupils × 100 objectives that is ~3,000
cells, most of them equal to many others (a class judged in a few sittings on one scale), and the objective
ids repeated in every row: most of a 450 KiB body, which every request encodes and gzips and every browser
parses.

``compact`` says the same in a fraction of the bytes: every distinct cell once, and per pupil one entry per
objective of the view, in the order of its ``objectives`` list — an index into the distinct cells, or null
when the pupil is not assessed on it::

    {"cells": [{"value": 3, "label": "Secure", ...}, ...],
     "rows": [{"pupil_id": "p1", "cells": [0, null, 1, ...]}, ...]}

Both are built by one :class:`HeatMap` from the same distinct cells, each made once, so asking for ``compact``
costs nothing extra. A client expands the compact form in a few lines (:func:`expand_heat_map` here,
``heat-map-encoding.js`` in the web app). Nothing here touches Flask or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from fathom_reports.views.values import Judgement, Scale

__all__ = ["COMPACT", "ENCODINGS", "FULL", "HeatMap", "expand_heat_map"]

FULL = "full"
COMPACT = "compact"
ENCODINGS = (FULL, COMPACT)


class HeatMap:
    """A heat map being built, objective by objective, in ``encoding``; :meth:`view` is the finished one.

    Each distinct cell is one (read-only) dict, made the first time it is met and numbered in that order. A
    class's 3,000 judgements typically share a few dozen (value, date, source) combinations, so the view is
    built from few objects and dates are formatted a few dozen times, not 3,000. Cells are told apart by what
    they show (value, band label, secure, date, source), so the same value and label on two scales is one cell.
    """

    def __init__(self, pupil_ids: Sequence[str], objective_ids: Sequence[str], encoding: str = FULL) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"Unknown heat-map encoding {encoding!r}; expected one of {ENCODINGS}.")
        self.pupil_ids, self.objective_ids, self.compact = pupil_ids, objective_ids, encoding == COMPACT
        self.cells: list[dict[str, Any]] = []
        self._numbers: dict[tuple[int, tuple[str | None, bool], date, str], int] = {}
        self._bands: dict[str | None, dict[int, tuple[str | None, bool]]] = {}
        if self.compact:
            self._lines: dict[str, list[int | None]] = {pupil_id: [None] * len(objective_ids) for pupil_id in pupil_ids}
        else:
            self._rows: dict[str, dict[str, dict[str, Any]]] = {pupil_id: {} for pupil_id in pupil_ids}

    def add_column(self, column: int, scale: Scale | None, judged: Iterable[tuple[str, Judgement]]) -> None:
        """Each (pupil id, judgement) of ``judged`` as that pupil's cell for ``objective_ids[column]``, whose
        scale is ``scale``: its value takes the scale's label; a value the scale does not define has no label
        and is not secure. Add the columns in order: the full form's cells keep the order they were added in.

        One call per objective, its loop on locals: this runs for every judgement a class shows."""
        scale_id = scale.scale_id if scale else None
        bands = self._bands.get(scale_id)
        if bands is None:
            bands = self._bands[scale_id] = {b.value: (b.label, b.secure) for b in scale.bands} if scale else {}
        numbers, cells, objective_id = self._numbers, self.cells, self.objective_ids[column]
        for pupil_id, judgement in judged:
            band = bands.get(judgement.value, _NO_BAND)
            key = (judgement.value, band, judgement.assessed_on, judgement.source)
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(cells)
                cells.append({"value": judgement.value, "label": band[0], "secure": bool(band[1]),
                              "assessed_on": judgement.assessed_on.isoformat(), "source": judgement.source})
            if self.compact:
                self._lines[pupil_id][column] = number
            else:
                self._rows[pupil_id][objective_id] = cells[number]

    def view(self) -> Any:
        """The heat map as the view shows it: a list of rows (full) or ``{cells, rows}`` (compact)."""
        if self.compact:
            return {"cells": self.cells,
                    "rows": [{"pupil_id": pupil_id, "cells": self._lines[pupil_id]} for pupil_id in self.pupil_ids]}
        return [{"pupil_id": pupil_id, "cells": self._rows[pupil_id]} for pupil_id in self.pupil_ids]


_NO_BAND: tuple[str | None, bool] = (None, False)


def expand_heat_map(compact: Mapping[str, Any], objective_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The full encoding of a ``compact`` heat map whose rows are aligned with ``objective_ids``: per pupil, the
    cells keyed by objective id in that order, not-assessed objectives left out.

    Equal cells come back as one shared dict: treat the result as read-only (it is for serialising).
    """
    cells = compact["cells"]
    return [{"pupil_id": row["pupil_id"],
             "cells": {objective_id: cells[index]
                       for objective_id, index in zip(objective_ids, row["cells"], strict=True) if index is not None}}
            for row in compact["rows"]]
