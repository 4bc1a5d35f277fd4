"""What every read endpoint shares: the store, the freshness wait, JSON and CSV answers, rendered bodies
kept and revalidated (``ETag`` / ``304``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import orjson
from apispec import BasePlugin
from flask import Response, current_app, g, request

import fathom_shared
from fathom_reports.body_cache import BodyKey, Render, RenderedBodies, RenderedBody, Turn, none_match
from fathom_reports.csv_export import Table, render
from fathom_reports.fair_use import fair_use
from fathom_reports.loading.freshness import ReadModelBehind, SequenceNotWritten
from fathom_reports.loading.store import ReadModelStore, read_version
from fathom_reports.schemas.as_of import AsOf
from fathom_shared import stage_trace
from fathom_shared.gc_pause import gc_paused
from fathom_shared.web.problems import Problem

T = TypeVar("T")

STORE_EXTENSION = "fathom_reports.loading.store"
BODIES_EXTENSION = "fathom_reports.rendered_bodies"
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


IF_NONE_MATCH = {
    "in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
    "description": "The `ETag` of a body the caller holds: answered `304` without a body while it is current.",
}


class RevalidationPlugin(BasePlugin):
    """Documents the ``If-None-Match`` request header on every operation that documents a ``304`` answer
    (those :func:`cached_view` serves), beside the query arguments the schema documents."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            if 304 in responses or "304" in responses:
                operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))


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
    stage_trace.mark("reports_asked", trust_id, at_least)
    try:
        behind = store.behind(trust_id, at_least)
        if behind is None:
            stage_trace.mark("reports_ready", trust_id, at_least)
            return
        with fair_use().hold(g.principal, "wait", store.consistency_timeout_s + 30):
            store.wait_until_applied(trust_id, at_least, behind)
        stage_trace.mark("reports_ready", trust_id, at_least)
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


def encode_json(body: Any) -> bytes:
    """Compact JSON, UTF-8 (orjson: the same values ``json.dumps`` writes, several times faster)."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


NOT_STORED = "private, no-store"
"""Bodies name pupils, and school computers are shared: no cache, not even the browser's, may store them.

The ``ETag`` still serves clients that keep their own copy (a data team's script) and revalidate it."""
VARY = "Accept, Accept-Encoding"


def json_response(body: dict[str, Any]) -> Response:
    """Serialised directly (see ``schemas``); names pupils, so no shared cache may keep it."""
    response = Response(encode_json(body), mimetype="application/json")
    response.headers["Cache-Control"] = NOT_STORED
    return response


def _code_version() -> str:
    """A digest of the code that renders (the reports service and the shared package its views use) and of the
    JSON encoder: part of every ``ETag``, so bodies rendered by another version are never revalidated as current."""
    digest = hashlib.blake2b(orjson.__version__.encode(), digest_size=8)
    for package in (Path(__file__).parent, Path(fathom_shared.__file__).parent):
        for path in sorted(package.rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()

def cached_view(trust_id: str, consistency: int | None, view: str, arguments: Mapping[str, Any],
                check: Callable[[Any], tuple[Any, ...]], load: Callable[[Any], T | None],
                render_view: Callable[[T], Any], missing: str, as_of: AsOf | None = None) -> Response:
    """A view's JSON, rendered once per :class:`BodyKey` and revalidated by ``ETag``.

    After the freshness wait, in one snapshot of the read models now (or as they stood at ``as_of``, replayed
    only on a miss): ``check`` decides access (raising 403/404) and returns what else decides the body beyond
    the models' version (which counts the pupils' names too, edited without an event) — such as which pupils the
    caller may see; only then is the key built, so a kept body is never answered to a caller the check refuses.
    A matching ``If-None-Match`` is answered ``304`` without loading; a kept body is answered as kept; a body
    another request is rendering is waited for (outside the snapshot); otherwise ``load`` (None: 404 for
    ``missing``), render, keep.
    """
    arrived = time.monotonic()
    for _ in range(JOIN_ATTEMPTS):
        response = _serve_view(trust_id, consistency, view, arguments, check, load, render_view, missing, as_of,
                               join=True, arrived=arrived)
        if response is not None:
            return response
    # The renders this request waited for gave nothing (they failed) or never one new enough: do its own.
    response = _serve_view(trust_id, consistency, view, arguments, check, load, render_view, missing, as_of,
                           join=False, arrived=arrived)
    assert response is not None
    return response


JOIN_ATTEMPTS = 3
"""How often a read tries to share another's render (one in progress, or the next after it) before doing its own."""


def _serve_view(trust_id: str, consistency: int | None, view: str, arguments: Mapping[str, Any],
                check: Callable[[Any], tuple[Any, ...]], load: Callable[[Any], T | None],
                render_view: Callable[[T], Any], missing: str, as_of: AsOf | None, join: bool, arrived: float,
                ) -> Response | None:
    store = read_store(consistency if as_of is None else None, trust_id)
    bodies: RenderedBodies = current_app.extensions[BODIES_EXTENSION]
    condition = request.headers.get("If-None-Match")
    render: Render | None = None
    body: RenderedBody | None = None
    try:
        opened = time.monotonic()
        with store.now(trust_id) if as_of is None else store.past(trust_id, as_of) as models:
            fingerprint = check(models)
            version = read_version(models) if as_of is None else models.version()
            key = BodyKey.of(trust_id, view, arguments, (*version, *fingerprint), code=CODE_VERSION)
            etags = (key.etag(), gzip_etag(key.etag()))
            if condition is not None and condition.strip() != "*" and none_match(condition, etags):
                return _not_modified(condition, etags)
            # Live views take turns to render (see fathom_reports.body_cache); a past view is one moment anyway.
            turn = None if as_of is not None else Turn((trust_id, view, key.arguments, tuple(fingerprint)),
                                                       arrived, opened, version[0], consistency or 0)
            found = bodies.get_or_claim(key, turn) if join else bodies.get(key)
            if isinstance(found, Render):
                render = found
            else:
                body = found
            with gc_paused():  # a view's rows and body form no cycles: collections would walk them for nothing
                snapshot = load(models) if body is None and (render is None or render.leader) else None
        if render is not None and not render.leader:
            body = render.wait()
            if body is None or render.queued:
                return None  # ask again: the render it waited for failed, or was for an earlier moment
            etags = (render.key.etag(), gzip_etag(render.key.etag()))  # the shared render's version
        elif body is None:
            if snapshot is None:
                raise not_found(missing)
            with gc_paused():
                body = RenderedBody.of(encode_json(render_view(snapshot)))
            if render is None:
                bodies.put(key, body)
    finally:
        if render is not None and render.leader:
            bodies.finish(render, body)
    if none_match(condition, etags):  # `*`: the view exists
        return _not_modified(condition, etags)
    return _body_response(body, etags)


def gzip_etag(etag: str) -> str:
    """The tag of the gzip-encoded representation: a strong tag names one sequence of bytes."""
    return etag[:-1] + '-gzip"'


def _body_response(body: RenderedBody, etags: tuple[str, str]) -> Response:
    compress = body.gzipped is not None and request.accept_encodings["gzip"] > 0
    response = Response(body.gzipped if compress else body.json, mimetype="application/json")
    if compress:
        response.headers["Content-Encoding"] = "gzip"
    return _revalidated(response, etags[1] if compress else etags[0])


def _not_modified(condition: str, etags: tuple[str, str]) -> Response:
    """``304``: the caller's stored body is current (named by whichever representation's tag it holds)."""
    held = next((etag for etag in etags if none_match(condition, (etag,))), etags[0])
    response = Response(status=304)
    del response.headers["Content-Type"]  # no body, so nothing to describe (RFC 9110 §15.4.5)
    return _revalidated(response, held)


def _revalidated(response: Response, etag: str) -> Response:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = NOT_STORED
    response.headers["Vary"] = VARY
    return response


def view_response(body: dict[str, Any], format_: str | None, tabulate: Callable[[dict[str, Any]], Table],
                  name: str) -> Response:
    """The view as JSON, or ``tabulate(body)`` as CSV when asked (``format=csv`` or ``Accept: text/csv``)."""
    if not wants_csv(format_):
        return json_response(body)
    response = Response(render(*tabulate(body)), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = NOT_STORED
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
