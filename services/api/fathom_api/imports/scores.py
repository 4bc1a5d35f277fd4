"""Standardised scores from CSV (``pupil_id,test,subject,score,taken_on``), all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Connection

from fathom_api.access import Actor, actor
from fathom_api.command_tables import pupils_by_id
from fathom_api.commands.scores import FIELDS, decide_scores
from fathom_api.executor import Decide, Decision
from fathom_api.imports.csv_table import RowErrors, load_row, parse_csv, report
from fathom_api.schemas import ScoreIn
from fathom_api.validation import Errors, require_assessor, school_today
from fathom_shared.auth import Principal

PREFIX = "rows"
Loaded = list[tuple[int, dict[str, Any]]]
"""Valid rows with the line each came from (errors name it)."""


class ScoreRow(ScoreIn):
    score = fields.Integer(required=True, validate=validate.Range(min=40, max=160))


def import_scores(query: dict[str, Any], csv_text: str) -> Decide:
    """Import standardised scores from CSV (text/csv body or multipart field ``file``).

    Errors are keyed ``rows.<line>.<column>`` (header = line 1) and nothing is recorded
    until the file is clean; ``dry_run=true`` validates only. At most 5,000 rows.
    """
    row_errors = RowErrors()
    loaded = score_rows(csv_text, row_errors)
    dry_run = query["dry_run"]

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        pupils = pupils_by_id(conn, (item["pupil_id"] for _, item in loaded))
        return decide_score_import(loaded, actor(conn, principal), pupils, school_today(), dry_run, row_errors)

    return decide


def score_rows(csv_text: str, row_errors: RowErrors) -> Loaded:
    """The file's valid rows with their lines (file checks only: nothing of the trust is read)."""
    table = parse_csv(csv_text, PREFIX, FIELDS, (), row_errors)
    return [(row.line, item) for row in table.rows
            if (item := load_row(ScoreRow(), row, PREFIX, row_errors)) is not None]


def decide_score_import(loaded: Loaded, caller: Actor, pupils: Mapping[str, Any], today: date, dry_run: bool,
                        row_errors: RowErrors) -> Decision:
    """``StandardisedScoreRecorded`` for every row, checked as a JSON batch is (:func:`decide_scores`).

    Any row error (from the file or the pupils) answers as an invalid file; with none, a refusal of the
    caller (a pupil not theirs) answers as it does for a batch.
    """
    errors = Errors()
    errors.by_field = row_errors.by_field
    items = [((lambda column, line=line: f"{PREFIX}.{line}.{column}"), item) for line, item in loaded]
    events = decide_scores(items, caller, pupils, today, errors)
    if errors.by_field:
        row_errors.raise_any()
    errors.raise_any()
    counts = report(dry_run, scores={"created": len(events)})
    return Decision(events=[] if dry_run else events, report=counts, status=200 if dry_run else None)
