"""Running one command: idempotency, the tenant transaction, and conflicts as 409.

A handler validates (reads only), then appends; the idempotency record is written in the
same transaction as the events, so a retried request either sees the original answer or
runs afresh — never half of each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import bindparam

from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import ConcurrencyConflict, NewEvent, StoredEvent, append_events
from fathom_shared.personal import staff_ref
from fathom_shared.web import Problem

MAX_KEY_LENGTH = 200


@dataclass
class Command:
    """What a handler gives back: events to append, plus write-model changes to make with them."""

    events: list[NewEvent]
    expected_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    resource_id: str | None = None
    after_append: Callable[[Connection], None] | None = None
    report: dict[str, Any] | None = None
    """Extra answer fields (e.g. an import's counts), stored with the idempotency record."""
    status: int | None = None
    """Overrides the endpoint's success code (a dry run creates nothing: 200, not 201)."""


Handler = Callable[[Connection, Principal], Command]


def combine(commands: Iterable[Command], **answer: Any) -> Command:
    """Many commands as one: their events in order, then their write-model changes in the same order.

    Lets a bulk write (an import) reuse the single-resource builders, so both paths write the
    same rows and events. ``answer`` sets the combined command's ``report`` / ``status`` / ``resource_id``.
    """
    commands = list(commands)
    writes = [c.after_append for c in commands if c.after_append is not None]

    def write_all(conn: Connection) -> None:
        for write in writes:
            write(conn)

    return Command(
        events=[event for c in commands for event in c.events],
        expected_versions={k: v for c in commands for k, v in c.expected_versions.items()},
        after_append=write_all if writes else None,
        **answer,
    )


def execute(engine: Engine, principal: Principal, handler: Handler, status: int = 201) -> tuple[dict[str, Any], int]:
    """Run ``handler`` in the caller's trust and answer ``(body, status)``.

    ``status`` is the success code: 201 for commands that create, 200 for settings and dry runs.
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise Problem(400, "Bad Request", errors={"Idempotency-Key": [f"Use 1-{MAX_KEY_LENGTH} characters."]})
    request_hash = _request_hash() if key else ""
    with TenantUnitOfWork(engine, principal.trust_id) as uow:
        conn = uow.connection
        if key and (replay := _replay(conn, principal.sub, key, request_hash)):
            return replay
        command = handler(conn, principal)
        try:
            stored = append_events(conn, principal.trust_id, command.events, _metadata(conn, principal, key),
                                   command.expected_versions)
            if command.after_append:
                command.after_append(conn)
        except ConcurrencyConflict as exc:
            raise Problem(409, "Conflict", str(exc)) from exc
        except IntegrityError as exc:
            raise Problem(409, "Conflict", "That id is already in use.") from exc
        body = _answer(command, stored)
        status = command.status or status
        if key:
            try:
                with conn.begin_nested():
                    _remember(conn, principal.sub, key, request_hash, status, body)
            except IntegrityError:
                # The same key won a race in another request: drop our work, give its answer.
                uow.rollback()
                replay = _replay(conn, principal.sub, key, request_hash)
                if replay:
                    return replay
                raise
        uow.commit()
    return body, status


def _answer(command: Command, stored: list[StoredEvent]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sequences": [e.sequence for e in stored],
        "event_ids": [str(e.event_id) for e in stored],
        "last_sequence": stored[-1].sequence if stored else None,
    }
    if command.resource_id is not None:
        body["id"] = command.resource_id
        versions = [e.stream_version for e in stored if e.stream_id == command.resource_id]
        if versions:
            body["stream_version"] = versions[-1]
    if command.report:
        body.update(command.report)
    return body


def _metadata(conn: Connection, principal: Principal, key: str | None) -> dict[str, Any]:
    """Who acted, by ``actor_ref`` (their erasable ``staff_identities`` row), never by ``sub``."""
    meta: dict[str, Any] = {"actor_ref": staff_ref(conn, principal.sub), "roles": sorted(principal.roles),
                            "request_id": g.get("request_id")}
    if key:
        meta["idempotency_key"] = key
    return meta


def _request_hash() -> str:
    if request.mimetype == "multipart/form-data":
        canonical = _multipart_parts()
    else:
        raw = request.get_data(cache=True)
        try:
            canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            canonical = raw
    # The query string counts: an import's dry run and its real run are different requests.
    target = request.method.encode() + b" " + request.path.encode() + b"?" + request.query_string
    return hashlib.sha256(target + b"\n" + canonical).hexdigest()


def _multipart_parts() -> bytes:
    """The parts of a multipart body, not its bytes: a client picks a fresh boundary on every retry."""
    parts = []
    for name, upload in request.files.items(multi=True):
        upload.stream.seek(0)
        parts.append([name, upload.filename or "", hashlib.sha256(upload.stream.read()).hexdigest()])
        upload.stream.seek(0)
    parts += [[name, "", value] for name, value in request.form.items(multi=True)]
    return json.dumps(sorted(parts)).encode()


def _replay(conn: Connection, subject: str, key: str, request_hash: str) -> tuple[dict[str, Any], int] | None:
    """The answer ``subject`` got for ``key`` before, if any.

    Keys are the caller's own (``subject`` is the token's ``sub``): another person in the trust who
    happens to send the same key and body gets their own write, never someone else's answer.
    """
    row = conn.execute(
        text("SELECT request_hash, status_code, response FROM idempotency_keys "
             "WHERE trust_id = current_setting('fathom.trust') AND subject = :subject AND key = :key"),
        {"subject": subject, "key": key},
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Problem(409, "Conflict", "This Idempotency-Key was used with a different request.",
                      errors={"Idempotency-Key": ["Already used with a different request."]})
    return row.response, row.status_code


_REMEMBER = text(
    "INSERT INTO idempotency_keys (trust_id, subject, key, request_hash, status_code, response) "
    "VALUES (current_setting('fathom.trust'), :subject, :key, :hash, :status, :response)"
).bindparams(bindparam("response", type_=JSONB))


def _remember(conn: Connection, subject: str, key: str, request_hash: str, status: int,
              body: dict[str, Any]) -> None:
    conn.execute(_REMEMBER, {"subject": subject, "key": key, "hash": request_hash, "status": status, "response": body})
