"""Engines and the tenant unit of work.

Every transaction that touches tenant data starts with ``set_config('fathom.trust', …, true)``
so PostgreSQL's row-level security policies (forced on every tenant table) see only that
trust. The setting is transaction-local: a pooled connection carries nothing over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from fathom_shared import fast_json
from fathom_shared.config import sqlalchemy_url

T = TypeVar("T")


def make_engine(url: str, pool_size: int = 10, *, pre_ping: bool = True) -> Engine:
    """An engine whose pool tests each connection as it is handed out (``pre_ping``: one round trip each time).

    ``pre_ping=False`` suits an engine used only through :class:`TenantUnitOfWork` and :func:`on_live_connection`
    (the command API's and the reports' requests): their first round trip finds a connection the server closed
    and replaces it.
    """
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
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
        self._connection = tenant_connection(self.engine, self.trust_id)
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


def on_live_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work(connection)`` on a pooled connection, :func:`once_more_if_dropped`. For statements outside a tenant
    unit of work (health checks, listing trusts) on an engine made with ``pre_ping=False``; ``work`` must be safe
    to run twice."""

    def attempt() -> T:
        with engine.connect() as connection:
            return work(connection)

    return once_more_if_dropped(attempt)


def once_more_if_dropped(attempt: Callable[[], T]) -> T:
    """``attempt()``, and once more if its first round trip found the pooled connection closed by the server (a
    restart, an idle timeout: SQLAlchemy invalidates it, so the next checkout is a fresh one), as the pool's
    pre-ping would have: an engine made with ``pre_ping=False`` saves that ping's round trip and loses nothing."""
    try:
        return attempt()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return attempt()


TRUST_SETTING = "fathom.trust"
"""The transaction's trust, which row-level security reads."""
SET_TRUST = f"SELECT set_config('{TRUST_SETTING}', %s, true)"
"""Scopes the transaction to one trust (row-level security), in the driver's parameter style: pipelines send it too."""


def set_trust(connection: Connection, trust_id: str) -> None:
    connection.exec_driver_sql(SET_TRUST, (trust_id,))


def tenant_connection(engine: Engine, trust_id: str) -> Connection:
    """A pooled connection in a new transaction scoped to ``trust_id``, :func:`once_more_if_dropped`.

    The transaction's ``BEGIN`` and the trust setting travel together (pipeline mode): one round trip, not two,
    and the one that finds a connection the server closed."""

    def attempt() -> Connection:
        connection = engine.connect()
        try:
            connection.begin()
            _scope_to(connection, trust_id)
        except BaseException:
            connection.close()
            raise
        return connection

    return once_more_if_dropped(attempt)


def _scope_to(connection: Connection, trust_id: str) -> None:
    """``BEGIN`` and the trust setting in one round trip."""
    with on_driver(connection, SET_TRUST) as driver, driver.pipeline():
        driver.execute(SET_TRUST, (trust_id,))


@contextmanager
def on_driver(connection: Connection, statement: str) -> Iterator[psycopg.Connection[Any]]:
    """``connection``'s driver connection, for statements sent on it directly (a pipeline: several in one round
    trip); a failure is raised as SQLAlchemy raises one: the driver's error as its ``DBAPIError`` (naming
    ``statement``), and a connection the server closed handled as the toolkit handles a disconnect (see
    :func:`_retire_dead`), the error marked ``connection_invalidated``, so the caller and
    :func:`once_more_if_dropped` treat it as the toolkit's own."""
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        yield driver
    except psycopg.Error as exc:
        dead = bool(driver.closed or driver.broken)
        if dead:
            _retire_dead(connection)
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, hide_parameters=True,
                                  connection_invalidated=dead, dialect=connection.dialect) from exc


def _retire_dead(connection: Connection) -> None:
    """Let the toolkit find ``connection`` dead itself: a statement on a closed driver connection fails at once,
    without a round trip, and SQLAlchemy's disconnect handling then invalidates it and marks every older pooled
    connection stale too. A server restart closes them all; invalidating this one alone left the others to be
    found one checkout at a time, and :func:`once_more_if_dropped`'s second attempt met the next dead one."""
    with suppress(DBAPIError):
        connection.exec_driver_sql("SELECT 1")
    if not connection.invalidated:
        connection.invalidate()


_SET = text("SELECT set_config(:name, :value, true)")
_READ_AND_SET = text("WITH before AS MATERIALIZED (SELECT current_setting(:name) AS previous) "
                     "SELECT previous, set_config(:name, :value, true) FROM before")
"""The setting as it was, then set, in one round trip (time travel's class recount runs inside a read): the
materialized row is read before the outer select's list sets the new value."""


@contextmanager
def setting_for(connection: Connection, name: str, value: str) -> Iterator[None]:
    """PostgreSQL's setting ``name`` at ``value`` for the statements run inside, then as the caller had it.

    ``SET LOCAL`` alone would last to the end of the transaction, and ``SET LOCAL … TO DEFAULT`` afterwards
    would put back the session's value, not what the caller had set in the transaction. A statement inside
    that fails leaves the setting to the transaction (or savepoint) rolling back, which reverts it; putting it
    back in a failed transaction would raise an error that hid the statement's own. The trust is not such a
    setting: it is the unit of work's, once per transaction, and changing it inside one would cross the trust
    boundary, so it is refused.
    """
    if name == TRUST_SETTING:
        raise ValueError(f"{TRUST_SETTING} is set once per transaction by the unit of work, never for some statements")
    previous = connection.execute(_READ_AND_SET, {"name": name, "value": value}).scalar_one()
    yield
    connection.execute(_SET, {"name": name, "value": previous})
