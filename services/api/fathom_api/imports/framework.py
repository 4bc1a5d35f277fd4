"""Framework import: one objective a row (``id,code,subject,year_group,strand,text,weight,scale_id``).

A row without an id takes one derived from its code, so re-importing the same file finds
the same objectives: a row whose objective exists with identical values is unchanged, one
whose objective exists with different values is an error (objectives are never edited in
place; retire and define a new one).
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Any

from marshmallow import fields
from sqlalchemy import Connection

from fathom_api.access import Access
from fathom_api.command_tables import objectives_as_defined, scale_ids
from fathom_api.commands.objectives import objectives_defined
from fathom_api.executor import Decide, Decision
from fathom_api.imports.csv_table import CsvTable, RowErrors, load_row, parse_csv, report
from fathom_api.refusals import Forbidden
from fathom_api.schemas import YEAR_GROUP, ObjectiveIn
from fathom_shared.auth import Principal
from fathom_shared.events import OBJECTIVE_FIELDS

PREFIX = "rows"
REQUIRED = ("code", "subject", "year_group", "text", "scale_id")
OPTIONAL = ("id", "strand", "weight")
Loaded = list[tuple[int, dict[str, Any]]]
"""Valid rows with the line each came from (errors name it)."""


class ObjectiveRow(ObjectiveIn):
    """An objective as a CSV row: numbers arrive as text."""

    year_group = fields.Integer(required=True, validate=YEAR_GROUP)


def id_from_code(code: str) -> str:
    """A stable id for a row without one: the code with anything but ``[A-Za-z0-9._:-]`` as '-'."""
    return re.sub(r"[^A-Za-z0-9._:-]+", "-", code).strip("-._:")[:64]


def import_objectives(query: dict[str, Any], csv_text: str) -> Decide:
    """Import a framework from CSV (``text/csv`` body or multipart field ``file``), all or nothing.

    Header ``id,code,subject,year_group,strand,text,weight,scale_id`` (id, strand, weight
    optional). Errors are keyed ``rows.<line>.<column>`` (header = line 1); nothing is written
    until the whole file is clean. ``dry_run=true`` validates and reports what would be created.
    Re-importing the same file creates nothing: identical existing objectives count as unchanged.
    At most 5,000 rows and 4 MiB (413 beyond).
    """
    errors = RowErrors()
    loaded = framework_rows(csv_text, errors)
    dry_run = query["dry_run"]

    def decide(conn: Connection, principal: Principal) -> Decision:
        existing = objectives_as_defined(conn, [item["id"] for _, item in loaded])
        scales = scale_ids(conn, {item["scale_id"] for _, item in loaded})
        return decide_framework_import(loaded, existing, scales, principal, dry_run, errors)

    return decide


def decide_framework_import(loaded: Loaded, existing: Mapping[str, Mapping[str, Any]], scales: Container[str],
                            caller: Principal, dry_run: bool, errors: RowErrors) -> Decision:
    """``ObjectiveDefined`` for each row's objective the trust lacks, or every row error at once.

    ``existing``: the trust's objectives the rows name, by id (their defining fields); ``scales``: the
    trust's scale ids. A dry run answers the same counts and appends nothing.
    """
    if not Access(caller).may_write_framework():
        raise Forbidden("Only trust leaders and integrations import frameworks.")
    new = _new_objectives(loaded, existing, scales, errors)
    errors.raise_any()
    counts = report(dry_run, objectives={"created": len(new), "unchanged": len(loaded) - len(new)})
    if dry_run:
        return Decision(events=[], report=counts, status=200)
    return objectives_defined(new, report=counts)


def framework_rows(csv_text: str, errors: RowErrors) -> Loaded:
    """The file's valid rows with their lines (file checks only: nothing of the trust is read)."""
    return _loaded_rows(parse_csv(csv_text, PREFIX, REQUIRED, OPTIONAL, errors), errors)


def _loaded_rows(table: CsvTable, errors: RowErrors) -> Loaded:
    """Each valid row with its line, its id derived from its code when it has none; repeats are errors."""
    loaded: Loaded = []
    seen: dict[str, int] = {}
    for row in table.rows:
        item = load_row(ObjectiveRow(), row, PREFIX, errors)
        if item is None:
            continue
        if item["id"] is None:
            item["id"] = id_from_code(item["code"])
            if not item["id"]:
                errors.add(PREFIX, row.line, "id", "Give an id: none can be derived from this code.")
                continue
        if item["id"] in seen:
            errors.add(PREFIX, row.line, "id", f"Same objective as line {seen[item['id']]}.")
            continue
        seen[item["id"]] = row.line
        loaded.append((row.line, item))
    return loaded


def _new_objectives(loaded: Loaded, existing: Mapping[str, Mapping[str, Any]], scales: Container[str],
                    errors: RowErrors) -> list[dict[str, Any]]:
    """The rows' objectives the trust does not have yet; a known id with other values is an error."""
    new: list[dict[str, Any]] = []
    for line, item in loaded:
        if item["scale_id"] not in scales:
            errors.add(PREFIX, line, "scale_id", "Unknown scale.")
        elif item["id"] in existing:
            differing = [c for c in OBJECTIVE_FIELDS if existing[item["id"]][c] != item[c]]
            if differing:
                errors.add(PREFIX, line, "id", f"Objective {item['id']} exists with a different "
                           f"{', '.join(differing)}; objectives are not edited by import.")
        else:
            new.append({"objective_id": item["id"], **{c: item[c] for c in OBJECTIVE_FIELDS}})
    return new
