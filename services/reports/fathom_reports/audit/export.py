"""The whole filtered event log as a download (CSV or JSON Lines), streamed a keyset page at a time.

An export of millions of events never holds more than one page in memory: each page's erasable ids are
resolved together (:func:`fathom_reports.loading.personal_texts.personal_of`), its lines written, and the next read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Connection

from fathom_reports.audit.events import event_view
from fathom_reports.csv_export import safe_cell
from fathom_reports.loading.personal_texts import personal_of
from fathom_shared.event_store import EventFilter, StoredEvent, iter_matching

EXPORT_PAGE = 1000


def export_lines(connection: Connection, event_filter: EventFilter, after: int, format_: str) -> Iterator[str]:
    """Every matching event after ``after`` as lines of ``format_`` (``csv`` with its header, or ``jsonl``)."""
    if format_ == "csv":
        yield csv_header()
    for page in pages(iter_matching(connection, event_filter, after, EXPORT_PAGE), EXPORT_PAGE):
        personal = personal_of(connection, page)
        for event in page:
            view = event_view(event, personal)
            yield csv_row(view) if format_ == "csv" else json.dumps(view, separators=(",", ":")) + "\n"


def pages(events: Iterable[StoredEvent], size: int) -> Iterator[list[StoredEvent]]:
    """``events`` in lists of ``size``: one page's erasable ids are resolved together."""
    stream = iter(events)
    while page := list(islice(stream, size)):
        yield page


CSV_COLUMNS = ["sequence", "event_id", "recorded_at", "type", "schema_version", "stream_type", "stream_id",
               "stream_version", "actor", "roles", "request_id", "data", "hash", "texts"]


def csv_row(view: dict[str, Any]) -> str:
    """One CSV line; ``data`` as compact JSON, any cell a spreadsheet would run as a formula quoted with ``'``."""
    cells = [view["sequence"], view["event_id"], view["recorded_at"], view["type"], view["schema_version"],
             view["stream"]["type"], view["stream"]["id"], view["stream"]["version"], view["actor"],
             ";".join(view["roles"] or []), view["request_id"],
             json.dumps(view["data"], sort_keys=True, separators=(",", ":")), view["hash"],
             json.dumps(view["texts"], sort_keys=True, separators=(",", ":"))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def csv_header() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(CSV_COLUMNS)
    return out.getvalue()

