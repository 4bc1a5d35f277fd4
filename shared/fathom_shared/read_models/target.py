"""Where the writer's rows go: the live tables, a schema of copies, or temporary tables.

The writer (:mod:`fathom_shared.read_models.writer`, with :mod:`~fathom_shared.read_models.current`
and :mod:`~fathom_shared.read_models.notices`) names every table unqualified (``rm_pupils``,
``dead_letters``, ``change_notices``), so PostgreSQL's name lookup decides which tables a
transaction writes. That is the one way of writing elsewhere, and there are two places to point it:

- **A schema of copies** (the online rebuild's ``fathom_rebuild``, see ``fathom_projector.shadow``):
  tables created ``LIKE`` the live ones in their own schema; :func:`write_into` puts that schema
  before ``public`` on the transaction's ``search_path``, :func:`write_live` takes it off again.
  For copies that outlive a transaction and must be kept in step with migrations.
- **Temporary tables** (a throw-away replay, e.g. a view as it stood at a past moment):
  :func:`create_scratch_tables` creates a copy of every table a replay writes, private to the
  connection and dropped when the transaction ends. PostgreSQL looks temporary tables up before
  any schema on the ``search_path``, so from then on the writer's rows — and the SQL loaders'
  reads of ``rm_*`` — stay in them, and the live read models are not touched.

Either way ``events`` (read through :mod:`fathom_shared.event_store`) and ``rm_positions`` have
no copy and stay the live ones: a replay into copies applies events with
:func:`~fathom_shared.read_models.writer.apply_events` or
:func:`~fathom_shared.read_models.writer.apply_from_store` — or, into empty copies that are read once
and dropped, writes the fold's final rows with :func:`~fathom_shared.read_models.fill.fill_empty` —
and must not call
:func:`~fathom_shared.read_models.writer.lock_position` / ``set_position``, which are the live
position's. The change-notice tables are always copied with the read models, so a replay's
notices never reach the live change feed. Creating temporary tables needs a read-write
transaction (PostgreSQL refuses ``CREATE`` in a read-only one).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from fathom_shared.read_models.notices import NOTICE_TABLES
from fathom_shared.read_models.tables import REPLAYED

SCRATCH_TABLES: tuple[str, ...] = (*(table.name for table in REPLAYED), *NOTICE_TABLES)
"""Every table the writer may write while applying events: all are copied, or rows would leak to live ones."""


def write_into(connection: Connection, schema: str) -> None:
    """Until the transaction ends, unqualified table names mean ``schema``'s tables first, then the live ones."""
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": f"{schema}, public"})


def write_live(connection: Connection) -> None:
    """Unqualified table names mean the live tables again (temporary tables, if any, still come first)."""
    connection.execute(text("SELECT set_config('search_path', 'public', true)"))


def create_scratch_tables(connection: Connection) -> None:
    """Empty temporary copies of :data:`SCRATCH_TABLES` (same columns, defaults, keys, indexes), dropped at commit.

    Temporary tables belong to this connection alone, so concurrent replays (of one trust, even)
    do not meet; row-level security is not copied and not needed, for the same reason. One round
    trip; the catalog work costs some tens of milliseconds.
    """
    connection.execute(text(_CREATE_SCRATCH))


_CREATE_SCRATCH = "; ".join(
    f"CREATE TEMPORARY TABLE {table} (LIKE public.{table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
    "INCLUDING INDEXES) ON COMMIT DROP" for table in SCRATCH_TABLES)
