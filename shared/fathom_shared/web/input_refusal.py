"""Input every endpoint of both services refuses before any schema parses it.

PostgreSQL cannot store a NUL or an unpaired surrogate, and JSON numbers beyond 64 bits, infinities or
deeply nested documents turned into 500s deep inside handlers; one rule here answers them 400/422 instead.
"""

from __future__ import annotations

import json as std_json
import math
from collections.abc import Iterator
from typing import Any

from flask import request

from fathom_shared.web.json_body import UNREADABLE, json_body
from fathom_shared.web.problems import Problem

MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NUL_MESSAGE = "Must not contain a NUL (\\u0000) character."


def refuse_unsafe_input() -> None:
    """One rule for every request of both services, before any schema sees it: no NUL characters and no
    unencodable text anywhere (PostgreSQL cannot store them), no JSON numbers beyond 64 bits or infinite,
    and no JSON nested deeper than :data:`MAX_JSON_DEPTH`. Answers 400 (JSON too deep) or 422 naming the
    field; the endpoints' own schemas then only deal in storable values."""
    errors: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if "\x00" in value:
            errors[f"headers.{name}"] = [NUL_MESSAGE]
    for location, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if message := unstorable_text(name) or unstorable_text(value):
                errors[f"{location}.{name}"] = [message]
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (message := unstorable_text(value)):
            errors[f"path.{name}"] = [message]
    errors.update(_json_body_errors())
    if errors:
        raise Problem(422, "Invalid request", errors=errors)


def unstorable_text(value: str) -> str | None:
    """Why PostgreSQL could not store ``value`` (a NUL, an unpaired surrogate), or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no unpaired surrogates)."
    return None


def _json_body_errors() -> dict[str, list[str]]:
    if not request.is_json:
        return {}
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json_body()  # parsed once: the endpoint's schema and the idempotency hash get the same value
    except RecursionError as exc:
        raise _too_deep() from exc
    except UNREADABLE:
        try:  # not UTF-8 JSON as the schemas read it; still checked as this rule always read it (bytes)
            body = std_json.loads(raw)
        except RecursionError as exc:
            raise _too_deep() from exc
        except ValueError:
            return {}  # not JSON: the endpoint's parser answers that, as it always has
    return {} if _certainly_storable(body) else document_errors(body)


def document_errors(body: Any) -> dict[str, list[str]]:
    """Every unstorable value of a parsed JSON document by its dotted path (raises the 400 when too deep)."""
    errors: dict[str, list[str]] = {}
    for path, value, depth in _walk(body):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, str):
            message = unstorable_text(value)
        elif isinstance(value, bool):
            message = None
        elif isinstance(value, int):
            message = None if INT64_MIN <= value <= INT64_MAX else f"Must be between {INT64_MIN} and {INT64_MAX}."
        elif isinstance(value, float):
            message = None if math.isfinite(value) else "Must be a finite number."
        else:
            message = None
        if message:
            errors[path or "_body"] = [message]
    return errors


def _certainly_storable(document: Any) -> bool:
    """True only when :func:`document_errors` would find nothing: every text storable, every number in range, no nesting
    past :data:`MAX_JSON_DEPTH`. Checked in bulk (texts joined and encoded once, numbers by their extremes),
    without naming a path per value, which is most of the walk's cost on a batch of hundreds of items; any
    doubt answers False and the walk decides, naming the fields."""
    if type(document) not in (dict, list):
        return False
    texts: list[str] = []
    ints: list[int] = []
    floats: list[float] = []
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        container, depth = stack.pop()
        if type(container) is dict:
            texts.extend(container)
            children: Any = container.values()
        else:
            children = container
        if children and depth + 1 > MAX_JSON_DEPTH:
            return False
        if set(map(type, children)) <= {str}:
            texts.extend(children)
            continue
        for child in children:
            kind = type(child)
            if kind is str:
                texts.append(child)
            elif kind is int:
                ints.append(child)
            elif kind is float:
                floats.append(child)
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
    joined = "".join(texts)
    return (unstorable_text(joined) is None
            and (not ints or (min(ints) >= INT64_MIN and max(ints) <= INT64_MAX))
            and all(map(math.isfinite, floats)))


def _too_deep() -> Problem:
    return Problem(400, "Bad Request", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
                   errors={"_body": [f"Nest at most {MAX_JSON_DEPTH} levels."]})


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value and object key of a parsed JSON document with its dotted path and depth, without recursion."""
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, key, depth + 1
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item, depth + 1) for i, item in enumerate(value))
