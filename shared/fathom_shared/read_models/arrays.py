"""Rows as column arrays: how the projector sends thousands of rows in one statement.

Each column travels as one typed array and is ``unnest``-ed server-side, so a 5,000-event
batch costs a handful of round trips instead of thousands of parameter sets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]

# Column name -> PostgreSQL type; every other column is text. Names mean the same in every table.
COLUMN_TYPES = {
    "year_group": "integer", "value": "integer", "original_value": "integer", "score": "integer",
    "version": "integer", "judgements": "integer", "rollup_n": "integer", "small_group_threshold": "integer",
    "score_disagreement_margin": "integer", "sequence": "bigint", "amended_sequence": "bigint",
    "weight": "numeric", "secure_target_percent": "numeric", "erased": "boolean", "retired": "boolean",
    "assessed_on": "date", "taught_on": "date", "start_date": "date", "end_date": "date", "left_on": "date",
    "retired_on": "date", "from_date": "date", "to_date": "date", "taken_on": "date",
    "event_id": "uuid", "judgement_id": "uuid", "score_id": "uuid",
    "note_ref": "uuid", "evidence_ref_id": "uuid", "reason_ref": "uuid", "recorded_by_ref": "uuid",
    "amended_by_ref": "uuid", "name_ref": "uuid", "lead_ref": "uuid", "outcome_ref": "uuid",
    "groups": "jsonb", "bands": "jsonb", "pupil_ids": "jsonb", "objective_ids": "jsonb",
}


def _array_type(column: str) -> str:
    kind = COLUMN_TYPES.get(column, "text")
    return "text" if kind == "jsonb" else kind  # JSON documents travel as text, cast per row


def unnest(columns: Sequence[str], alias: str = "r") -> str:
    """``unnest(CAST(:c_array AS type[]), ...) AS r(c, ...)`` for the columns' array parameters."""
    arrays = ", ".join(f"CAST(:{c}_array AS {_array_type(c)}[])" for c in columns)
    return f"unnest({arrays}) AS {alias}({', '.join(columns)})"


def selected(columns: Sequence[str], alias: str = "r") -> str:
    """The unnested columns with jsonb ones cast back from text."""
    return ", ".join(f"CAST({alias}.{c} AS jsonb)" if COLUMN_TYPES.get(c) == "jsonb" else f"{alias}.{c}"
                     for c in columns)


def array_params(columns: Sequence[str], rows: Sequence[Row]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    for column in columns:
        values = [row[column] for row in rows]
        if COLUMN_TYPES.get(column) == "jsonb":
            values = [json.dumps(v) for v in values]
        params[f"{column}_array"] = values
    return params
