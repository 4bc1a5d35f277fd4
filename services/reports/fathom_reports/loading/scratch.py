"""Scratch read models: temporary tables shaped like the projector's, filled by the projector's own fold.

Time travel folds a past moment's events with exactly the code that builds the live read models (the
projector's fold and rollup) and writes the final rows, once per table, into temporary tables created
``LIKE`` the live ones (:func:`fathom_shared.read_models.fill.fill_empty`: empty tables need no upserts,
change notices or SQL refresh). PostgreSQL looks temporary tables up first, so for the rest of the
transaction the unqualified ``rm_*`` names in the writer and in the SQL loaders mean the scratch copies,
while the roster, personal texts and the event store stay the live tables.

The tables are created in the request's own transaction (``ON COMMIT DROP``; the transaction is always
rolled back), which then turns read-only: PostgreSQL still allows writes to temporary tables, so nothing
else can be written by a past view. Temporary tables are private to the session, and only the trust's own
events (read under row-level security) ever go into them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, text

from fathom_shared.read_models.fill import fill_empty
from fathom_shared.read_models.notices import NOTICE_TABLES
from fathom_shared.read_models.projection import ParsedBatch
from fathom_shared.read_models.tables import REPLAYED

SCRATCH_KEYS: dict[str, tuple[str, ...]] = {
    **{table.name: ("trust_id", *table.key) for table in REPLAYED},
    **{name: ("trust_id",) if name == "change_heads" else () for name in NOTICE_TABLES},
    "rm_positions": ("trust_id",)}
"""Every table the live writer may write while applying events (as in
:data:`fathom_shared.read_models.target.SCRATCH_TABLES`; a fill falls back to it when the database refuses
a row), and ``rm_positions``, which the loaders read as
a view's ``sequence``: here it is the past moment's. Each with only the key its upserts conflict on, not
the live tables' other indexes: a scratch table holds one view's rows, and every index costs catalog work
and writes. With no ``change_heads`` row, the writer's change notices are not even numbered."""

_CREATE = "".join(
    f"CREATE TEMPORARY TABLE {name} (LIKE public.{name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    + (f", PRIMARY KEY ({', '.join(key)})" if key else "") + ") ON COMMIT DROP; "
    for name, key in SCRATCH_KEYS.items()) + "SET TRANSACTION READ ONLY"
_CLEAR = "; ".join(f"DELETE FROM pg_temp.{name}" for name in SCRATCH_KEYS)


def create_scratch(connection: Connection) -> None:
    """Create the scratch tables (one round trip), then make the transaction read-only."""
    connection.exec_driver_sql(_CREATE)


def replay(connection: Connection, trust_id: str, batch: ParsedBatch, sequence: int, *,
           clear: bool = True, unread: Collection[str] = ()) -> None:
    """Make the scratch tables hold exactly ``batch``'s events folded, as read models at ``sequence``
    (``clear=False``: they are known to be empty still), but for the tables in ``unread``, left empty: the view
    does not read them."""
    if clear:
        connection.exec_driver_sql(_CLEAR)
    connection.execute(text("INSERT INTO pg_temp.rm_positions (trust_id, last_applied) VALUES (:trust, :sequence)"),
                       {"trust": trust_id, "sequence": sequence})
    fill_empty(connection, trust_id, batch.events(), unread, batch)
