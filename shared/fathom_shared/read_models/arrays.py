"""Rows as one JSON document: how the projector sends thousands of rows in one statement.

A batch's rows travel as a single JSON array of objects, serialised by ``orjson`` in C, and are
turned back into typed columns server-side by ``json_to_recordset`` with each column's type declared,
so a 5,000-event batch costs a handful of round trips and no per-value work in Python. (Sending each
column as a typed array cost far more: the driver escaped every element of every text array through
a regular expression.) A statement built here takes its rows as the one parameter ``:rows_json`` (``%(rows_json)s``
in a statement the driver runs itself).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

Row = dict[str, Any]

# Column name -> PostgreSQL type; every other column is text. Names mean the same in every table.
COLUMN_TYPES = {
    "year_group": "integer", "value": "integer", "original_value": "integer", "score": "integer",
    "version": "integer", "judgements": "integer", "rollup_n": "integer", "small_group_threshold": "integer",
    "score_disagreement_margin": "integer", "sequence": "bigint", "amended_sequence": "bigint",
    "weight": "numeric", "secure_target_percent": "numeric", "erased": "boolean", "retired": "boolean",
    "assessed_on": "date", "taught_on": "date", "start_date": "date", "end_date": "date", "left_on": "date",
    "retired_on": "date", "from_date": "date", "to_date": "date", "taken_on": "date", "closed_on": "date",
    "event_id": "uuid", "judgement_id": "uuid", "score_id": "uuid",
    "note_ref": "uuid", "evidence_ref_id": "uuid", "reason_ref": "uuid", "recorded_by_ref": "uuid",
    "amended_by_ref": "uuid", "name_ref": "uuid", "lead_ref": "uuid", "outcome_ref": "uuid",
    "groups": "jsonb", "bands": "jsonb", "pupil_ids": "jsonb", "objective_ids": "jsonb", "pupil_joined_on": "jsonb",
    "points": "jsonb", "text_ref": "uuid", "owner_ref": "uuid", "review_note_ref": "uuid", "reviewed_by_ref": "uuid",
    "recorded_at": "timestamptz", "reviewed_at": "timestamptz", "reviewed_sequence": "bigint",
    "codes": "jsonb", "rank": "integer", "expected_rank": "integer",
    "comment_ref": "uuid", "written_by_ref": "uuid",
}

PARAMETER = "rows_json"


def unnest(columns: Sequence[str], alias: str = "r", placeholder: str = f":{PARAMETER}") -> str:
    """``json_to_recordset(:rows_json) AS r(c type, ...)``: the rows of :func:`array_params` as typed columns
    (``placeholder`` ``%(rows_json)s`` for a statement the driver runs itself)."""
    declared = ", ".join(f"{c} {COLUMN_TYPES.get(c, 'text')}" for c in columns)
    return f"json_to_recordset(CAST({placeholder} AS json)) AS {alias}({declared})"


def selected(columns: Sequence[str], alias: str = "r") -> str:
    """The columns of :func:`unnest`; a JSON ``null`` document stays the jsonb ``null`` it always was
    (``json_to_recordset`` turns every JSON null into SQL NULL)."""
    return ", ".join(f"coalesce({alias}.{c}, 'null'::jsonb)" if COLUMN_TYPES.get(c) == "jsonb" else f"{alias}.{c}"
                     for c in columns)


def array_params(columns: Sequence[str], rows: Sequence[Row]) -> dict[str, str]:
    """The parameter of :func:`unnest` over ``columns``: ``rows`` as one JSON array, as they are (every row holds
    ``columns``; ``json_to_recordset`` reads those keys and ignores any other)."""
    return {PARAMETER: dumps(rows)}


def dumps(value: Any) -> str:
    """JSON text of rows: ``orjson`` (dates, UUIDs natively); the standard library for what it refuses
    (an integer beyond 64 bits: the database then refuses the row, as it refused the typed array)."""
    try:
        return orjson.dumps(value, default=_decimal).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, default=str)


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")
