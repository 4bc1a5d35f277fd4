"""Running one command: idempotency, the tenant transaction, and conflicts.

A command rule reads the state it needs and decides (reads only), then the executor appends; the
idempotency record is written in the same transaction as the events, so a retried request either
sees the original answer or runs afresh — never half of each. Nothing here knows about HTTP: the
caller (the HTTP layer, an import, a CLI) passes who acts and the request's identity in
:class:`CommandContext`, and gets ``(body, status)`` back or a :class:`~fathom_api.refusals.CommandRefused`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from fathom_api.command_table_fold import apply as apply_to_command_tables
from fathom_api.refusals import Conflict
from fathom_shared import stage_trace
from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork, on_driver
from fathom_shared.event_store import ConcurrencyConflict, NewEvent, StoredEvent, append_events, canonical_json_ascii
from fathom_shared.event_store import canonical_json as compact_json
from fathom_shared.personal import FIND_STAFF, staff_ref

UNPARSED: Any = object()
"""``canonical_json``'s ``body`` when the caller has not parsed the body."""


@dataclass
class Decision:
    """What a command rule decided: events to append (the command-side tables follow them through
    :mod:`fathom_api.command_table_fold`), plus ``after_append`` for what never enters the log: personal data."""

    events: list[NewEvent]
    expected_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    resource_id: str | None = None
    after_append: Callable[[Connection], None] | None = None
    report: dict[str, Any] | None = None
    """Extra answer fields (e.g. an import's counts), stored with the idempotency record."""
    status: int | None = None
    """Overrides the endpoint's success code (a dry run creates nothing: 200, not 201)."""


Decide = Callable[[Connection, Principal], Decision]
"""A command ready to run: reads what it needs in the caller's trust and returns its :class:`Decision`."""


@dataclass(frozen=True)
class CommandContext:
    """Who runs a command and how the request is known: everything the executor takes from outside."""

    caller: Principal
    idempotency_key: str | None = None
    request_hash: str = ""
    """Identifies the request's content; a retry with the same key must carry the same hash."""
    request_id: str | None = None


def combine(decisions: Iterable[Decision], **answer: Any) -> Decision:
    """Many decisions as one: their events in order, then their write-model changes in the same order.

    Lets a bulk write (an import) reuse the single-resource builders, so both paths write the
    same rows and events. ``answer`` sets the combined decision's ``report`` / ``status`` / ``resource_id``.
    """
    decisions = list(decisions)
    writes = [d.after_append for d in decisions if d.after_append is not None]

    def write_all(conn: Connection) -> None:
        for write in writes:
            write(conn)

    return Decision(
        events=[event for d in decisions for event in d.events],
        expected_versions={k: v for d in decisions for k, v in d.expected_versions.items()},
        after_append=write_all if writes else None,
        **answer,
    )


def execute(engine: Engine, context: CommandContext, decide: Decide, status: int = 201) -> tuple[dict[str, Any], int]:
    """Run ``decide`` in the caller's trust, append what it decided and answer ``(body, status)``.

    ``status`` is the success code: 201 for commands that create, 200 for settings and dry runs.
    """
    caller, key = context.caller, context.idempotency_key
    with TenantUnitOfWork(engine, caller.trust_id) as uow:
        conn = uow.connection
        earlier, actor_ref = _earlier_answer_and_actor(conn, caller.sub, key)
        if earlier is not None and (replay := _replayed(earlier, context.request_hash)):
            return replay
        decision = decide(conn, caller)
        try:
            stored = append_events(conn, caller.trust_id, decision.events, _metadata(conn, context, actor_ref),
                                   decision.expected_versions)
            apply_to_command_tables(conn, decision.events)
            if decision.after_append:
                decision.after_append(conn)
        except ConcurrencyConflict as exc:
            raise Conflict(str(exc)) from exc
        except IntegrityError as exc:
            raise Conflict("That id is already in use.") from exc
        body = _answer(decision, stored)
        status = decision.status or status
        if key and not _remember(conn, caller.sub, key, context.request_hash, status, body):
            # The same key won a race in another request (committed while we worked): drop our work, give its answer.
            uow.rollback()
            replay = _replay(conn, caller.sub, key, context.request_hash)
            if replay:
                return replay
            raise RuntimeError("an idempotency key conflicted but its record cannot be read")
        uow.commit_last()
    if stored:
        stage_trace.mark("api_committed", caller.trust_id, stored[-1].sequence)
    return body, status


def _answer(decision: Decision, stored: list[StoredEvent]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sequences": [e.sequence for e in stored],
        "event_ids": [str(e.event_id) for e in stored],
        "last_sequence": stored[-1].sequence if stored else None,
    }
    if decision.resource_id is not None:
        body["id"] = decision.resource_id
        versions = [e.stream_version for e in stored if e.stream_id == decision.resource_id]
        if versions:
            body["stream_version"] = versions[-1]
    if decision.report:
        body.update(decision.report)
    return body


def _metadata(conn: Connection, context: CommandContext, actor_ref: str | None) -> dict[str, Any]:
    """Who acted, by ``actor_ref`` (their erasable ``staff_identities`` row), never by ``sub``."""
    caller = context.caller
    meta: dict[str, Any] = {"actor_ref": staff_ref(conn, caller.sub, actor_ref), "roles": sorted(caller.roles),
                            "request_id": context.request_id}
    if context.idempotency_key:
        meta["idempotency_key"] = context.idempotency_key
    return meta


def request_hash(method: str, path: str, query_string: bytes, canonical_body: bytes) -> str:
    """The hash a retry must match: method, path, query (a dry run and a real run differ) and body."""
    target = method.encode() + b" " + path.encode() + b"?" + query_string
    return hashlib.sha256(target + b"\n" + canonical_body).hexdigest()


def canonical_json(raw: bytes, body: Any = UNPARSED) -> bytes:
    """A JSON body with sorted keys and no spacing (retries may format it differently); other bodies as sent.

    The bytes are ``json.dumps(body, sort_keys=True, separators=(",", ":"))`` (every stored key's hash was made
    so), written by the event store's faster writer where it gives the same bytes (``canonical_json_ascii``).

    ``body`` is ``raw`` already parsed (as the endpoint's schema read it), when it was."""
    if body is UNPARSED:
        try:
            body = json.loads(raw)
        except ValueError:
            return raw
    return canonical_json_ascii(body)


def _replay(conn: Connection, subject: str, key: str, request_hash: str) -> tuple[dict[str, Any], int] | None:
    """The answer ``subject`` got for ``key`` before, if any.

    Keys are the caller's own (``subject`` is the token's ``sub``): another person in the trust who
    happens to send the same key and body gets their own write, never someone else's answer.
    """
    row = conn.exec_driver_sql(_REPLAY, {"subject": subject, "key": key}).one_or_none()
    return None if row is None else _replayed(tuple(row), request_hash)


def _replayed(row: tuple[Any, ...], request_hash: str) -> tuple[dict[str, Any], int]:
    """The earlier answer ``(response, status)`` from its ``_REPLAY`` row, if this is the same request."""
    stored_hash, status_code, response = row
    if stored_hash != request_hash:
        raise Conflict("This Idempotency-Key was used with a different request.",
                       errors={"Idempotency-Key": ["Already used with a different request."]})
    return response, status_code


def _earlier_answer_and_actor(conn: Connection, subject: str, key: str | None,
                              ) -> tuple[tuple[Any, ...] | None, str | None]:
    """The ``_REPLAY`` row of the caller's key (None: no key, or not used yet) and the caller's ``staff_ref``
    (None: not known yet), read in one round trip: the driver's pipeline mode sends both reads together."""
    with on_driver(conn, _REPLAY) as driver, driver.pipeline():
        earlier = driver.execute(_REPLAY, {"subject": subject, "key": key}) if key else None
        actor = driver.execute(FIND_STAFF, {"sub": subject})
    row = earlier.fetchone() if earlier is not None else None
    found = actor.fetchone()
    return row, None if found is None else str(found[0])


_REPLAY = ("SELECT request_hash, status_code, response FROM idempotency_keys "
           "WHERE trust_id = current_setting('fathom.trust') AND subject = %(subject)s AND key = %(key)s")
_REMEMBER = (
    "INSERT INTO idempotency_keys (trust_id, subject, key, request_hash, status_code, response) "
    "VALUES (current_setting('fathom.trust'), %(subject)s, %(key)s, %(hash)s, %(status)s, CAST(%(response)s AS jsonb)) "
    "ON CONFLICT (trust_id, subject, key) DO NOTHING")
"""One statement, no savepoint: a key another request committed first is seen as no row written. Both are sent
as written (no SQL toolkit compilation): they run on every request that carries a key."""


def _remember(conn: Connection, subject: str, key: str, request_hash: str, status: int,
              body: dict[str, Any]) -> bool:
    """Keep the answer under the caller's key; False if a concurrent request with that key committed first."""
    return conn.exec_driver_sql(_REMEMBER, {"subject": subject, "key": key, "hash": request_hash, "status": status,
                                            "response": compact_json(body).decode()}).rowcount == 1
