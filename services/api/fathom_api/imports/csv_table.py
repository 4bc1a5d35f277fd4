"""Reading an uploaded CSV's text into numbered rows and collecting line-precise errors.

Shared by every import so that they all answer the same way: 413 for a row count over the
limit, an :class:`~fathom_api.refusals.InvalidFile` refusal (422) with ``<prefix>.<line>.<column>``
errors for anything else. The text arrives as a plain string: :mod:`fathom_api.http` reads the
upload (and checks its size and encoding), so the imports run without a request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from fathom_api.refusals import InvalidFile
from fathom_shared.web.problems import Problem

MAX_ROWS = 5000
MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class CsvRow:
    line: int
    """The line the record starts on, as an editor shows it (the header is line 1)."""
    values: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    prefix: str
    """How errors name this file: ``rows`` for a single-file import, ``users.csv`` in a bundle."""
    columns: list[str]
    rows: list[CsvRow]


class RowErrors:
    """Errors of every row of every file, raised at once as one 422 (nothing imported)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, prefix: str, line: int | None, column: str | None, message: str) -> None:
        key = ".".join(str(part) for part in (prefix, line, column) if part is not None)
        self.by_field.setdefault(key, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_any(self) -> None:
        if self.by_field:
            raise InvalidFile("Nothing was imported; fix these rows and send the file again.", errors=self.by_field)


def parse_csv(text: str, prefix: str, required: Iterable[str], optional: Iterable[str] = (),
              errors: RowErrors | None = None, *, extra_columns: bool = False,
              max_rows: int = MAX_ROWS) -> CsvTable:
    """Rows of ``text`` by column name; header problems go to ``errors`` as line 1.

    Blank lines are skipped (their numbers still count). ``extra_columns`` tolerates columns
    neither required nor optional (standards such as OneRoster allow them).
    """
    errors = errors if errors is not None else RowErrors()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        errors.add(prefix, 1, None, "The file is empty: it needs a header row.")
        return CsvTable(prefix, [], [])
    except csv.Error as exc:
        errors.add(prefix, 1, None, f"Not CSV: {exc}.")
        return CsvTable(prefix, [], [])
    required, known = list(required), {*required, *optional}
    for column in required:
        if column not in header:
            errors.add(prefix, 1, column, "Missing column.")
    for column in header:
        if column not in known and not extra_columns:
            errors.add(prefix, 1, column, "Unknown column.")
    if len(set(header)) != len(header):
        errors.add(prefix, 1, None, "A column name appears twice.")
    rows: list[CsvRow] = []
    previous_end = 1
    try:
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(rows) == max_rows:
                raise Problem(413, "Payload Too Large", f"{prefix} has more than {max_rows} rows; split it.")
            if len(record) > len(header):
                errors.add(prefix, line, None, f"Has {len(record)} fields; the header has {len(header)}.")
                continue
            values = {column: cell.strip() for column, cell in zip(header, record, strict=False)}
            rows.append(CsvRow(line, values))
    except csv.Error as exc:
        errors.add(prefix, reader.line_num, None, f"Not CSV: {exc}.")
    return CsvTable(prefix, header, rows)


def load_row(schema: Schema, row: CsvRow, prefix: str, errors: RowErrors) -> dict[str, Any] | None:
    """Validate one row with ``schema`` (blank cells count as absent); None when it has errors."""
    values = {column: value for column, value in row.values.items() if value != ""}
    try:
        return schema.load(values, unknown=EXCLUDE)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, Mapping) else {"_row": exc.messages}
        for column, column_messages in messages.items():
            for message in column_messages if isinstance(column_messages, list) else [str(column_messages)]:
                errors.add(prefix, row.line, None if column == "_schema" else column, str(message))
        return None


def report(dry_run: bool, **counts: dict[str, int]) -> dict[str, Any]:
    """The answer's import summary: counts of created/unchanged/moved per kind."""
    return {"dry_run": dry_run, "counts": counts}
