"""Shadow copies of the read-model tables, where an online rebuild replays a trust's log.

The ``fathom_rebuild`` schema holds one table per live read-model table, created ``LIKE``
the live one (same columns, keys, indexes; rows tagged by ``trust_id`` as in the live
tables, under the same row-level security), plus ``progress``: how far each trust's
replay has got. The projector's own writer fills the shadow unchanged: a replay
transaction puts ``fathom_rebuild`` first on its ``search_path``, so the writer's
unqualified ``rm_*`` names resolve to the shadow while ``events`` and ``rm_positions``
(which have no shadow) stay the live ones.

The schema is created by :func:`ensure_shadow` (owner role) rather than a migration so the
shadow always has the live tables' current shape: a table whose columns drifted (a
migration since the last rebuild) is recreated, and every rebuild in progress restarts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, text

from fathom_shared.read_models.current import CELL, COLUMNS
from fathom_shared.read_models.notices import changed_only, with_notices
from fathom_shared.read_models.tables import TABLES

SCHEMA = "fathom_rebuild"
DERIVED_MODEL = "pupil_objective"
"""Derived from ``rm_judgements`` and the trust's rollup; rebuildable without a replay."""

MODELS: dict[str, str] = {
    table.removeprefix("rm_"): table for table in [*(t.name for t in TABLES), "rm_pupil_objective"]
}
"""Model name -> live table: each ``rm_*`` table the projector writes is one model."""

MODEL_KEYS: dict[str, tuple[str, ...]] = {**{t.name: t.key for t in TABLES}, "rm_pupil_objective": CELL}
MODEL_COLUMNS: dict[str, tuple[str, ...]] = {**{t.name: t.columns for t in TABLES}, "rm_pupil_objective": COLUMNS}
"""Each model's key and the columns its change notices carry (as the projector's own writes announce them)."""

DEPENDENTS: dict[str, tuple[str, ...]] = {"judgements": ("rm_pupil_objective",)}
"""Models derived from another: switched with it, so the two never disagree."""

REPLAYED_TABLES: tuple[str, ...] = (*MODELS.values(), "dead_letters")
"""Swapped in by a full rebuild: every read model and the events it set aside."""
ABSORBED_TABLES: tuple[str, ...] = ("change_heads", "change_notices")
"""Shadowed, when they exist, only so a replay's side writes land in the shadow; never swapped."""

_LOCK_KEY = 0x6661_7468_6F6D  # "fathom": serialises shadow DDL between concurrent rebuild commands


def ensure_shadow(owner_engine: Engine) -> list[str]:
    """Create or re-shape the shadow tables; returns the tables (re)created.

    A recreated table invalidates every trust's replay, so all progress rows are dropped.
    """
    created: list[str] = []
    with owner_engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {SCHEMA} TO fathom_app"))
        live = _live_tables(conn)
        for table in [t for t in (*REPLAYED_TABLES, *ABSORBED_TABLES) if t in live]:
            if _columns(conn, "public", table) != _columns(conn, SCHEMA, table):
                conn.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.{table}"))
                conn.execute(text(f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} "
                                  "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"))
                _tenant_table(conn, table)
                created.append(table)
        conn.execute(text(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.progress ("
            " trust_id text PRIMARY KEY, last_sequence bigint NOT NULL DEFAULT 0,"
            " started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())"))
        _tenant_table(conn, "progress")
        if created:
            conn.execute(text(f"DELETE FROM {SCHEMA}.progress"))
    return created


def shadowed_tables(connection: Connection) -> list[str]:
    """The shadow tables that exist (``ABSORBED_TABLES`` only once their migration ran)."""
    names = set(connection.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema"), {"schema": SCHEMA}
    ).scalars())
    return [t for t in (*REPLAYED_TABLES, *ABSORBED_TABLES) if t in names]


def model_tables(model: str) -> list[str]:
    """The live tables a ``--model`` rebuild switches: the model's table and those derived from it."""
    return [MODELS[model], *DEPENDENTS.get(model, ())]


def use_shadow(connection: Connection) -> None:
    """Make the writer's unqualified table names mean the shadow tables, until the transaction ends."""
    connection.execute(text("SELECT set_config('search_path', :path, true)"), {"path": f"{SCHEMA}, public"})


def use_live(connection: Connection) -> None:
    connection.execute(text("SELECT set_config('search_path', 'public', true)"))


def clear_shadow(connection: Connection, trust_id: str) -> None:
    """Drop the trust's shadow rows and progress (before a fresh replay, after a switch)."""
    for table in [*shadowed_tables(connection), "progress"]:
        connection.execute(text(f"DELETE FROM {SCHEMA}.{table} WHERE trust_id = :trust_id"), {"trust_id": trust_id})


def swap(connection: Connection, trust_id: str, tables: Sequence[str], sequence: int) -> None:
    """Make the trust's live rows of ``tables`` equal its shadow rows (inside the caller's transaction).

    Read models are changed row by row — rows the replay no longer has are deleted, new or different
    rows upserted — so exactly the rows that differ change, and each is announced in the change feed
    like any other projector write (``sequence`` is the position the switch reaches). Dead letters
    are not a model: they are replaced wholesale and not announced.
    """
    params = {"trust_id": trust_id, "notice_sequence": sequence}
    for table in tables:
        columns = _columns_names(connection, table)
        key = MODEL_KEYS.get(table)
        if key is None:
            listed = ", ".join(columns)
            connection.execute(text(f"DELETE FROM public.{table} WHERE trust_id = :trust_id"), params)
            connection.execute(text(f"INSERT INTO public.{table} ({listed}) "
                                    f"SELECT {listed} FROM {SCHEMA}.{table} WHERE trust_id = :trust_id"), params)
            continue
        same_key = "".join(f" AND s.{c} = live.{c}" for c in key)  # no key: one row per trust
        connection.execute(with_notices(
            f"DELETE FROM public.{table} AS live WHERE live.trust_id = :trust_id AND NOT EXISTS "
            f"(SELECT FROM {SCHEMA}.{table} AS s WHERE s.trust_id = live.trust_id{same_key}) "
            f"RETURNING {', '.join(f'live.{c}' for c in ('trust_id', *key))}", table, key, deleted=True), params)
        values = [c for c in columns if c not in ("trust_id", *key)]
        upsert = (f"INSERT INTO public.{table} ({', '.join(columns)}) SELECT {', '.join(columns)} "
                  f"FROM {SCHEMA}.{table} WHERE trust_id = :trust_id ON CONFLICT ({', '.join(('trust_id', *key))}) DO ")
        upsert += ("UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
                   + changed_only(table, values, ())) if values else "NOTHING"
        connection.execute(with_notices(f"{upsert} RETURNING {', '.join(MODEL_COLUMNS[table])}", table, key), params)


def _tenant_table(conn: Connection, table: str) -> None:
    """The live tables' isolation: forced row-level security by ``fathom.trust``; the app role may write."""
    qualified = f"{SCHEMA}.{table}"
    conn.execute(text(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY"))
    conn.execute(text(f"DROP POLICY IF EXISTS tenant_isolation ON {qualified}"))
    conn.execute(text(f"CREATE POLICY tenant_isolation ON {qualified} "
                      "USING (trust_id = current_setting('fathom.trust', true)) "
                      "WITH CHECK (trust_id = current_setting('fathom.trust', true))"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {qualified} TO fathom_app"))


def _live_tables(conn: Connection) -> set[str]:
    return set(conn.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).scalars())


def _columns(conn: Connection, schema: str, table: str) -> list[tuple[str, str, str]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(text(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"),
        {"schema": schema, "table": table})]


def _columns_names(conn: Connection, table: str) -> list[str]:
    return [c[0] for c in _columns(conn, "public", table)]
