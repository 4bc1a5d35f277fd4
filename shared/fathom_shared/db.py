"""Engines and the tenant unit of work.

Every transaction that touches tenant data starts with ``set_config('fathom.trust', …, true)``
so PostgreSQL's row-level security policies (forced on every tenant table) see only that
trust. The setting is transaction-local: a pooled connection carries nothing over.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Engine, create_engine, event, text

from fathom_shared import fast_json
from fathom_shared.config import sqlalchemy_url


def make_engine(url: str, pool_size: int = 10) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        future=True,
        hide_parameters=True,  # an SQL error's log line must not carry a pupil's name or a teacher's note
    )
    event.listen(engine, "connect", _parse_json_in_c)
    return engine


def _parse_json_in_c(dbapi_connection: Any, _record: Any) -> None:
    """``json``/``jsonb`` values parsed by :func:`fathom_shared.fast_json.loads`: the same values as the
    driver's default (:func:`json.loads`), and most of the cost of reading events (replays, gap fills)."""
    set_json_loads(fast_json.loads, dbapi_connection)


class TenantUnitOfWork:
    """One transaction, scoped to one trust. Rolls back unless :meth:`commit` is called."""

    def __init__(self, engine: Engine, trust_id: str) -> None:
        self.engine = engine
        self.trust_id = trust_id
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection

    def __enter__(self) -> TenantUnitOfWork:
        self._connection = self.engine.connect()
        self._connection.begin()
        set_trust(self._connection, self.trust_id)
        return self

    def commit(self) -> None:
        self.connection.commit()
        # A later statement in the same block would start a new transaction: keep the trust.
        self.connection.begin()
        set_trust(self.connection, self.trust_id)

    def commit_last(self) -> None:
        """Commit when nothing follows in this block: one round trip less than :meth:`commit`, which scopes the
        next transaction to the trust at once. A statement after this one would run with no trust set, and
        row-level security would show it nothing."""
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()
        self.connection.begin()
        set_trust(self.connection, self.trust_id)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.rollback()
            connection.close()


def set_trust(connection: Connection, trust_id: str) -> None:
    connection.execute(text("SELECT set_config('fathom.trust', :trust, true)"), {"trust": trust_id})
