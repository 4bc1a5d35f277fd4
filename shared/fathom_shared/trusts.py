"""Tenant provisioning. Runs as the owner role: ``trusts`` is the platform's own table.

Suspending a trust only flips its status: both APIs answer its tokens with 403 (see
:class:`fathom_shared.web.TrustStatusCache`), while its events, read models and roster
stay exactly as they were, so resuming restores access with nothing to repair.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, text

from fathom_shared.db import on_live_connection

TRUST_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
"""The same rule as the ``trusts.trust_id`` CHECK constraint, checked first for a readable error."""
STATUSES = ("active", "suspended")


class TrustExists(Exception):
    pass


class NoSuchTrust(Exception):
    pass


class InvalidTrustId(ValueError):
    def __init__(self, trust_id: str) -> None:
        super().__init__(f"invalid trust id {trust_id!r}: 2-63 characters of a-z, 0-9 and '-', "
                         "starting with a letter or digit")


class TrustInfo(NamedTuple):
    """A tuple, so callers may unpack it or index it as the earlier ``(id, name, status)`` rows."""

    trust_id: str
    name: str
    status: str
    created_at: datetime


TRUST_ROW_TABLES = ("trust_heads", "relay_positions", "rm_positions")
"""The per-trust rows a trust gets when it is created: the event store, relay and projector lock them."""


def create_trust(owner_engine: Engine, trust_id: str, name: str) -> None:
    """Register the trust and the per-trust rows the event store, relay and projector lock."""
    if not TRUST_ID.match(trust_id):
        raise InvalidTrustId(trust_id)
    with owner_engine.begin() as conn:
        inserted = conn.execute(
            text("INSERT INTO trusts (trust_id, name) VALUES (:id, :name) ON CONFLICT DO NOTHING"),
            {"id": trust_id, "name": name},
        ).rowcount
        if not inserted:
            raise TrustExists(trust_id)
        for table in TRUST_ROW_TABLES:
            conn.execute(text(f"INSERT INTO {table} (trust_id) VALUES (:id)"), {"id": trust_id})


def set_trust_status(owner_engine: Engine, trust_id: str, status: str) -> str:
    """Set ``status`` (idempotent); returns the previous status. :class:`NoSuchTrust` if unknown."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    with owner_engine.begin() as conn:
        previous = conn.execute(text("SELECT status FROM trusts WHERE trust_id = :id FOR UPDATE"),
                                {"id": trust_id}).scalar()
        if previous is None:
            raise NoSuchTrust(trust_id)
        conn.execute(text("UPDATE trusts SET status = :s WHERE trust_id = :id"), {"s": status, "id": trust_id})
    return str(previous)


def trust_status(engine: Engine, trust_id: str) -> str | None:
    """``active``, ``suspended`` or None for no such trust."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM trusts WHERE trust_id = :id"), {"id": trust_id}).scalar()


def active_trust_ids(engine: Engine) -> list[str]:
    """The trusts background work serves: a suspended trust's data is untouched, but nothing more of it is
    relayed, verified or leaves the platform."""
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT trust_id FROM trusts WHERE status = 'active'")).scalars())


def all_trust_ids(engine: Engine) -> list[str]:
    """Every trust, suspended ones too, by id: what a suspended trust wrote is still projected and rebuilt, and its
    change notices age like any other's. On a live connection (:func:`~fathom_shared.db.on_live_connection`), so
    engines made without the pool's ping can call it."""
    return on_live_connection(engine, lambda connection: list(
        connection.execute(text("SELECT trust_id FROM trusts ORDER BY trust_id")).scalars()))


def list_trusts(engine: Engine) -> list[TrustInfo]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT trust_id, name, status, created_at FROM trusts ORDER BY trust_id"))
        return [TrustInfo(r.trust_id, r.name, r.status, r.created_at) for r in rows]
