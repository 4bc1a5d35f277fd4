"""What every read endpoint shares: the store, the freshness wait, JSON and CSV answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import BasePlugin
from flask import Response, current_app, g, request

from fathom_reports.csv_export import Table, render
from fathom_reports.fair_use import fair_use
from fathom_reports.loading.freshness import ReadModelBehind, SequenceNotWritten
from fathom_reports.loading.store import ReadModelStore
from fathom_reports.schemas.as_of import AsOf
from fathom_shared.web.problems import Problem

T = TypeVar("T")

STORE_EXTENSION = "fathom_reports.loading.store"
CSV_MIMETYPE = "text/csv"
EXPORT_MIMETYPES = {"csv": CSV_MIMETYPE, "jsonl": "application/x-ndjson"}
"""What each value of a ``format`` query argument answers, besides JSON."""


class ExportFormatsPlugin(BasePlugin):
    """Documents the other content types an operation with a ``format`` argument answers 200 with (CSV, JSON
    Lines), so a client generated from the document — or a check against it — expects them."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            formats = [value for parameter in operation.get("parameters", [])
                       if isinstance(parameter, dict) and parameter.get("in") == "query"
                       and parameter.get("name") == "format"
                       for value in parameter.get("schema", {}).get("enum", [])]
            ok = operation.get("responses", {}).get(200) or operation.get("responses", {}).get("200")
            if not formats or not isinstance(ok, dict):
                continue
            content = ok.setdefault("content", {})
            for value in formats:
                if value in EXPORT_MIMETYPES:
                    content.setdefault(EXPORT_MIMETYPES[value], {"schema": {"type": "string"}})


def read_store(consistency: int | None, trust_id: str) -> ReadModelStore:
    """The store, after waiting (bounded) for ``consistency`` if the caller asked for it."""
    store: ReadModelStore = current_app.extensions[STORE_EXTENSION]
    if consistency is not None:
        wait_for_read_model(store, trust_id, consistency)
    return store


def read_view(trust_id: str, consistency: int | None, as_of: AsOf | None, loader: Callable[..., T], *args: Any,
              **kwargs: Any) -> T:
    """``loader(models, ...)`` on the read models now (after waiting for ``consistency`` if asked) or as they
    stood at ``as_of`` (replayed from the event store, where ``consistency`` does not apply)."""
    store = read_store(consistency if as_of is None else None, trust_id)
    return store.read_view(trust_id, as_of, loader, *args, **kwargs)


def wait_for_read_model(store: ReadModelStore, trust_id: str, at_least: int) -> None:
    """Answer at once when the read model is there, refuse at once when no write has that sequence yet;
    otherwise wait, holding one of the caller's ``wait`` leases (:mod:`fathom_reports.fair_use`)."""
    try:
        if not store.behind(trust_id, at_least):
            return
        with fair_use().hold(g.principal, "wait", store.consistency_timeout_s + 30):
            store.wait_until_applied(trust_id, at_least)
    except SequenceNotWritten as unwritten:
        raise Problem(
            422, "Invalid request",
            f"No write of this trust has sequence {unwritten.requested} yet (its last is {unwritten.head}); "
            "pass the sequence a write answered with.",
            errors={"query.consistency": [f"Must be at most the trust's last sequence, {unwritten.head}."]},
        ) from unwritten
    except ReadModelBehind as behind:
        raise Problem(
            503, "Read model behind",
            f"The read model is behind: it has applied sequence {behind.current}, the request asked for "
            f"at least {behind.requested}. Retry shortly.",
            headers={"Retry-After": "1"},
        ) from behind


def json_response(body: dict[str, Any]) -> Response:
    """Serialised directly (see ``schemas``); names pupils, so no shared cache may keep it."""
    response = Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def view_response(body: dict[str, Any], format_: str | None, tabulate: Callable[[dict[str, Any]], Table],
                  name: str) -> Response:
    """The view as JSON, or ``tabulate(body)`` as CSV when asked (``format=csv`` or ``Accept: text/csv``)."""
    if not wants_csv(format_):
        return json_response(body)
    response = Response(render(*tabulate(body)), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def wants_csv(format_: str | None) -> bool:
    """``format=csv`` wins; otherwise an Accept header preferring text/csv over JSON."""
    if format_ is not None:
        return format_ == "csv"
    best = request.accept_mimetypes.best_match(["application/json", CSV_MIMETYPE])
    return best == CSV_MIMETYPE and request.accept_mimetypes[CSV_MIMETYPE] > request.accept_mimetypes[
        "application/json"]


def not_found(what: str) -> Problem:
    """Another trust's id is invisible under row-level security: the same 404 as no such thing."""
    return Problem(404, "Not Found", f"There is no such {what}.")
