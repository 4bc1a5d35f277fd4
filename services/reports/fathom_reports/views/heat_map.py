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

The view is built compact (:class:`HeatMapCells` numbers the distinct cells as it meets them) and the full
form is its expansion (:func:`expand_heat_map`, which a client does in a few lines too), so the two are the
same data by construction and asking for ``compact`` costs nothing extra. Nothing here touches Flask or the
database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from fathom_reports.views.values import Band, Judgement, Scale

__all__ = ["COMPACT", "ENCODINGS", "FULL", "HeatMapCells", "expand_heat_map"]

FULL = "full"
COMPACT = "compact"
ENCODINGS = (FULL, COMPACT)


class HeatMapCells:
    """The distinct cells of one heat map, each one (read-only) dict, numbered in the order they are first met.

    A class's 3,000 judgements typically share a few dozen (value, date, source) combinations, so the view is
    built from few objects and dates are formatted a few dozen times, not 3,000. Cells are looked up by scale,
    value, date and source; a new one equal to an earlier one (the same value and label on another scale)
    gets the earlier one's number, so each distinct cell is listed once.
    """

    def __init__(self) -> None:
        self.cells: list[dict[str, Any]] = []
        self._by_judgement: dict[tuple[str | None, int, date, str], int] = {}
        self._by_content: dict[tuple[Any, ...], int] = {}
        self._bands: dict[str | None, dict[int, Band]] = {}

    def index(self, scale: Scale | None, judgement: Judgement) -> int:
        """The number of ``judgement``'s cell (its value with ``scale``'s label; unknown values: no label,
        not secure)."""
        scale_id = scale.scale_id if scale else None
        key = (scale_id, judgement.value, judgement.assessed_on, judgement.source)
        index = self._by_judgement.get(key)
        if index is None:
            bands = self._bands.get(scale_id)
            if bands is None:
                bands = self._bands[scale_id] = {band.value: band for band in scale.bands} if scale else {}
            band = bands.get(judgement.value)
            cell = {"value": judgement.value, "label": band.label if band else None,
                    "secure": bool(band and band.secure), "assessed_on": judgement.assessed_on.isoformat(),
                    "source": judgement.source}
            content = tuple(cell.values())
            index = self._by_content.get(content)
            if index is None:
                index = self._by_content[content] = len(self.cells)
                self.cells.append(cell)
            self._by_judgement[key] = index
        return index

    def heat_map(self, rows: Iterable[tuple[str, list[int | None]]], objective_ids: Sequence[str],
                 encoding: str = FULL) -> Any:
        """The heat map of ``rows`` (pupil id, one cell number or None per objective of ``objective_ids``)."""
        if encoding not in ENCODINGS:
            raise ValueError(f"Unknown heat-map encoding {encoding!r}; expected one of {ENCODINGS}.")
        compact = {"cells": self.cells, "rows": [{"pupil_id": pupil_id, "cells": line} for pupil_id, line in rows]}
        return compact if encoding == COMPACT else expand_heat_map(compact, objective_ids)


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
