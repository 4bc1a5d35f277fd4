"""Standardised scores from CSV (``pupil_id,test,subject,score,taken_on``), all or nothing."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Connection

from fathom_api.commands.scores import FIELDS, score_events
from fathom_api.executor import Decide, Decision
from fathom_api.imports.csv_table import RowErrors, load_row, parse_csv, report, upload_text
from fathom_api.schemas import ScoreIn
from fathom_api.validation import Errors
from fathom_shared.auth import Principal

PREFIX = "rows"


class ScoreRow(ScoreIn):
    score = fields.Integer(required=True, validate=validate.Range(min=40, max=160))


def import_scores(query: dict[str, Any]) -> Decide:
    """Import standardised scores from CSV (text/csv body or multipart field ``file``).

    Errors are keyed ``rows.<line>.<column>`` (header = line 1) and nothing is recorded
    until the file is clean; ``dry_run=true`` validates only. At most 5,000 rows.
    """
    row_errors = RowErrors()
    table = parse_csv(upload_text(), PREFIX, FIELDS, (), row_errors)
    loaded = [(row.line, item) for row in table.rows
              if (item := load_row(ScoreRow(), row, PREFIX, row_errors)) is not None]
    dry_run = query["dry_run"]

    def decide(conn: Connection, principal: Principal) -> Decision:
        errors = Errors()
        errors.by_field = row_errors.by_field
        items = [((lambda column, line=line: f"{PREFIX}.{line}.{column}"), item) for line, item in loaded]
        events = score_events(conn, principal, items, errors)
        if errors.by_field:
            row_errors.raise_any()
        errors.raise_any()
        counts = report(dry_run, scores={"created": len(events)})
        return Decision(events=[] if dry_run else events, report=counts, status=200 if dry_run else None)

    return decide
