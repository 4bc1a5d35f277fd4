"""Every event names an existing trust, and a trust with events cannot be deleted or renamed.

Migration ``0019_events_trust_check`` checks the reference once per statement (triggers) instead of once per
row (the foreign key); these hold with either, as the application role and as the owner.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from psycopg import errors
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events
from fathom_shared.trusts import TRUST_ROW_TABLES

INSERT = ("INSERT INTO events (trust_id, sequence, event_id, stream_type, stream_id, stream_version, event_type, "
          "data, metadata, recorded_at, prev_hash, hash) VALUES (:t, :s, :e, 'school', 's1', 1, 'SchoolCreated', "
          "'{}', '{}', :at, '', '')")


def test_an_event_of_a_trust_that_does_not_exist_is_refused(app_engine: Engine) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with TenantUnitOfWork(app_engine, ghost) as uow, pytest.raises(DBAPIError) as refused:
        uow.connection.execute(text(INSERT), {"t": ghost, "s": 1, "e": uuid.uuid4(), "at": datetime.now(UTC)})
    assert isinstance(refused.value.orig, errors.ForeignKeyViolation)


def test_a_batch_of_an_existing_trust_is_appended(app_engine: Engine, trust: str) -> None:
    with TenantUnitOfWork(app_engine, trust) as uow:
        stored = append_events(uow.connection, trust, [
            NewEvent("school", f"s{n}", "SchoolCreated", {"school_id": f"s{n}", "name": "Oak"}) for n in range(3)],
            {"sub": "t"})
        uow.commit()
    assert [event.sequence for event in stored] == [1, 2, 3]


def test_a_trust_with_events_cannot_be_deleted_or_renamed(owner_engine: Engine, app_engine: Engine,
                                                          make_trust) -> None:
    trust, empty = make_trust("keep"), make_trust("empty")
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [NewEvent("school", "s1", "SchoolCreated",
                                                       {"school_id": "s1", "name": "Oak"})], {"sub": "t"})
        uow.commit()
    for statement in ("DELETE FROM trusts WHERE trust_id = :t", "UPDATE trusts SET trust_id = :t || '-x' "
                                                                "WHERE trust_id = :t"):
        with owner_engine.connect() as connection, pytest.raises(DBAPIError) as refused:
            for table in TRUST_ROW_TABLES:  # only the events still name the trust
                connection.execute(text(f"DELETE FROM {table} WHERE trust_id = :t"), {"t": trust})
            connection.execute(text(statement), {"t": trust})
        assert isinstance(refused.value.orig, errors.ForeignKeyViolation), statement
    with owner_engine.begin() as connection:
        for table in TRUST_ROW_TABLES:
            connection.execute(text(f"DELETE FROM {table} WHERE trust_id = :t"), {"t": empty})
        assert connection.execute(text("DELETE FROM trusts WHERE trust_id = :t"), {"t": empty}).rowcount == 1
        assert connection.execute(text("SELECT current_setting('fathom.trust', true)")).scalar() in (None, "")
