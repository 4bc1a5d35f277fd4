"""Tenant provisioning. Runs as the owner role: ``trusts`` is the platform's own table."""

from __future__ import annotations

from sqlalchemy import Engine, text


class TrustExists(Exception):
    pass


def create_trust(owner_engine: Engine, trust_id: str, name: str) -> None:
    with owner_engine.begin() as conn:
        inserted = conn.execute(
            text("INSERT INTO trusts (trust_id, name) VALUES (:id, :name) ON CONFLICT DO NOTHING"),
            {"id": trust_id, "name": name},
        ).rowcount
        if not inserted:
            raise TrustExists(trust_id)
        for table in ("trust_heads", "relay_positions", "rm_positions"):
            conn.execute(text(f"INSERT INTO {table} (trust_id) VALUES (:id)"), {"id": trust_id})


def trust_status(engine: Engine, trust_id: str) -> str | None:
    """``active``, ``suspended`` or None for no such trust."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM trusts WHERE trust_id = :id"), {"id": trust_id}).scalar()


def list_trusts(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT trust_id, name, status FROM trusts ORDER BY trust_id"))
        return [(r[0], r[1], r[2]) for r in rows]
