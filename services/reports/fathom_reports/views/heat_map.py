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

A client expands it back in a few lines (:func:`expand_heat_map` here, ``heat-map-encoding.js`` in the web
app); the two encodings are the same data, so every cell of one is recoverable from the other.
Nothing here touches Flask or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["COMPACT", "ENCODINGS", "FULL", "compact_heat_map", "encode_heat_map", "expand_heat_map"]

FULL = "full"
COMPACT = "compact"
ENCODINGS = (FULL, COMPACT)


def compact_heat_map(rows: Iterable[Mapping[str, Any]], objective_ids: Sequence[str]) -> dict[str, Any]:
    """``rows`` in the full encoding as the compact one, each row aligned with ``objective_ids``.

    Equal cells become one entry, numbered in order of first appearance (row by row, objective by objective),
    so the same heat map always gives the same bytes. The view shares one dict per distinct cell, so cells are
    first told apart by identity and only a new object is compared by content. A cell for an objective not in
    ``objective_ids`` could not be expanded again: it is refused rather than dropped.
    """
    distinct: list[Mapping[str, Any]] = []
    by_content: dict[tuple[tuple[str, Any], ...], int] = {}
    by_identity: dict[int, int] = {}  # id(cell) → index; every cell stays alive in ``rows`` meanwhile
    compact_rows = []
    for row in rows:
        cells: Mapping[str, Mapping[str, Any]] = row["cells"]
        line: list[int | None] = []
        for objective_id in objective_ids:
            cell = cells.get(objective_id)
            if cell is None:
                line.append(None)
                continue
            index = by_identity.get(id(cell))
            if index is None:
                content = tuple(sorted(cell.items()))
                index = by_content.get(content)
                if index is None:
                    index = by_content[content] = len(distinct)
                    distinct.append(cell)
                by_identity[id(cell)] = index
            line.append(index)
        if len(cells) != len(line) - line.count(None):
            unknown = sorted(set(cells) - set(objective_ids))
            raise ValueError(f"Pupil {row['pupil_id']} has cells for objectives the view does not list: {unknown}")
        compact_rows.append({"pupil_id": row["pupil_id"], "cells": line})
    return {"cells": distinct, "rows": compact_rows}


def expand_heat_map(compact: Mapping[str, Any], objective_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The full encoding of ``compact`` (the inverse of :func:`compact_heat_map` for the same objectives).

    Equal cells come back as one shared dict: treat the result as read-only.
    """
    cells = compact["cells"]
    return [{"pupil_id": row["pupil_id"],
             "cells": {objective_id: cells[index] for objective_id, index in zip(objective_ids, row["cells"],
                                                                                 strict=True)
                       if index is not None}}
            for row in compact["rows"]]


def encode_heat_map(view: dict[str, Any], encoding: str) -> dict[str, Any]:
    """A Class Analysis ``view`` with its heat map in ``encoding``: the view itself for ``full``; for
    ``compact`` a copy whose ``heat_map`` (in the same place, so the keys keep their order) is compact,
    aligned with the view's ``objectives``."""
    if encoding == FULL:
        return view
    if encoding != COMPACT:
        raise ValueError(f"Unknown heat-map encoding {encoding!r}; expected one of {ENCODINGS}.")
    objective_ids = [objective["objective_id"] for objective in view["objectives"]]
    return {**view, "heat_map": compact_heat_map(view["heat_map"], objective_ids)}
