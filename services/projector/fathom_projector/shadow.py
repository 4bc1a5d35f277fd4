"""Shadow copies of the read-model tables, where an online rebuild replays a trust's log.

The ``fathom_rebuild`` schema holds one table per live read-model table, created ``LIKE``
the live one (same columns and keys, no other index; rows tagged by ``trust_id`` as in the live
tables, under the same row-level security), plus ``progress``: how far each trust's
replay has got. The projector's own writer fills the shadow unchanged: a replay
transaction puts ``fathom_rebuild`` first on its ``search_path`` (:func:`use_shadow`, the
one way of writing elsewhere, :mod:`fathom_shared.read_models.target`), so the writer's
unqualified ``rm_*`` names resolve to the shadow while ``events`` and ``rm_positions``
(which have no shadow) stay the live ones. Which tables are shadowed, and their keys and
columns, come from the table specs (:mod:`fathom_shared.read_models.tables`).

The schema is created by :func:`ensure_shadow` (owner role) rather than a migration so the
shadow always has the live tables' current shape: a table whose columns drifted (a
migration since the last rebuild) is recreated, and every rebuild in progress restarts.

Every shadow table, ``progress`` included, is ``UNLOGGED``: a replay writes each row of the trust's
read models into the shadow before the switch copies it live, and writing it to the WAL as well
(about 1.3 GB for a million events) bought nothing, since the shadow is a scratch copy the switch
reads once. PostgreSQL empties unlogged tables after a crash of the server (not of the rebuild
process, whose committed chunks stay), and because ``progress`` is emptied with the rows it
describes, a rebuild after such a crash starts over from the first event instead of resuming
over missing rows. The live read models are written only by the switch, logged as always.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, text

from fathom_shared.db import setting_for
from fathom_shared.read_models.notices import NOTICE_TABLES, changed_only, model_name, with_notices
from fathom_shared.read_models.tables import PUPIL_OBJECTIVE, READ_MODELS, REPLAYED, Table
from fathom_shared.read_models.target import write_into

SCHEMA = "fathom_rebuild"
DERIVED_MODEL = model_name(PUPIL_OBJECTIVE.name)
"""Derived from ``rm_judgements`` and the trust's rollup; rebuildable without a replay."""

MODELS: dict[str, str] = {model_name(table.name): table.name for table in READ_MODELS}
"""Model name -> live table: each ``rm_*`` table the projector writes is one model."""

DEPENDENTS: dict[str, tuple[str, ...]] = {"judgements": (PUPIL_OBJECTIVE.name,)}
"""Models derived from another: switched with it, so the two never disagree."""

REPLAYED_TABLES: tuple[str, ...] = tuple(table.name for table in REPLAYED)
"""Swapped in by a full rebuild: every read model and the events it set aside."""
ABSORBED_TABLES: tuple[str, ...] = NOTICE_TABLES
"""Shadowed, when they exist, only so a replay's side writes land in the shadow; never swapped."""
_SPECS: dict[str, Table] = {table.name: table for table in REPLAYED}

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
            if _columns(conn, "public", table) != _columns(conn, SCHEMA, table) or not _unlogged(conn, table):
                conn.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.{table}"))
                conn.execute(text(f"CREATE UNLOGGED TABLE {SCHEMA}.{table} (LIKE public.{table} "
                                  "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"))
                _tenant_table(conn, table)
                created.append(table)
        _drop_lookup_indexes(conn)
        if created or not _unlogged(conn, "progress"):  # progress must vanish in a crash with the rows
            conn.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.progress"))
        conn.execute(text(
            f"CREATE UNLOGGED TABLE IF NOT EXISTS {SCHEMA}.progress ("
            " trust_id text PRIMARY KEY, last_sequence bigint NOT NULL DEFAULT 0,"
            " started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),"
            " switched boolean NOT NULL DEFAULT false)"))
        if "switched" not in {column for column, _type, _null in _columns(conn, SCHEMA, "progress")}:
            # An older release's: its replays were never switched (their rows went with the switch). Asked first,
            # as an ALTER would wait for every chunk under way, and hold up every other, even with nothing to add.
            conn.execute(text(f"ALTER TABLE {SCHEMA}.progress ADD COLUMN switched boolean NOT NULL DEFAULT false"))
        _tenant_table(conn, "progress")
        conn.execute(text(_ANALYSE_FUNCTION))
        conn.execute(text(f"REVOKE ALL ON FUNCTION {SCHEMA}.analyse_replayed(text[]) FROM PUBLIC"))
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {SCHEMA}.analyse_replayed(text[]) TO fathom_app"))
    return created


_ANALYSE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.analyse_replayed(tables text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text;
BEGIN
    FOR name IN SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = '{SCHEMA}'::regnamespace AND c.relkind = 'r' AND c.relname = ANY (tables) LOOP
        EXECUTE format('ANALYZE (SKIP_LOCKED) {SCHEMA}.%I (trust_id)', name);
    END LOOP;
END $$"""
"""``ANALYZE`` needs the table's owner (PostgreSQL 15), and a rebuild runs as the application role: this runs it as
the owner for the shadow's tables named, and nothing else. Only ``trust_id``'s statistics: they, and the table's row
count that every ``ANALYZE`` records, are what the switch's plans need (see :func:`analyse_replayed`). A table another
session is analysing or vacuuming meanwhile (another trust's rebuild, autovacuum) is skipped rather than waited for:
the switch then plans with the statistics it has, as it did before this function."""


def analyse_replayed(connection: Connection, tables: Sequence[str]) -> None:
    """Tell the planner how many rows the shadow's ``tables`` hold and how many of them each trust has.

    A shadow table made afresh (the first rebuild, or one re-shaped after a migration) has no statistics until
    autovacuum gets to it, and the switch's comparison of a million replayed judgements with the live ones was then
    planned for a few thousand: its hash join spilled to disk in 32 batches, 1.5–2.5 s against 1.0–1.2 s once
    analysed (four runs each). Analysing ``trust_id`` alone takes ~0.1 s for a million rows.

    Statistics are the whole table's, as autovacuum's are of every live table: ``pg_stats`` hides them from a role
    under row-level security, but the planner's estimates (``EXPLAIN`` as the application role) reflect every trust's
    row count. Only the services' own statements run as that role; no tenant can send one."""
    connection.execute(text(f"SELECT {SCHEMA}.analyse_replayed(:tables)"), {"tables": list(tables)})


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
    write_into(connection, SCHEMA)


def clear_shadow(connection: Connection, trust_id: str) -> None:
    """Drop the trust's shadow rows and progress (before a fresh replay, after a switch committed)."""
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
    with setting_for(connection, "enable_nestloop", "off"):  # see _merge_model
        for table in tables:
            spec = _SPECS[table]
            if spec in READ_MODELS:
                _merge_model(connection, spec, params)
            else:
                _replace_rows(connection, spec, params)


def _replace_rows(connection: Connection, table: Table, params: dict[str, object]) -> None:
    """The trust's live rows of ``table`` deleted, its shadow rows copied in: silently, not a model."""
    listed = ", ".join(("trust_id", *table.columns))
    connection.execute(text(f"DELETE FROM public.{table.name} WHERE trust_id = :trust_id"), params)
    connection.execute(text(f"INSERT INTO public.{table.name} ({listed}) "
                            f"SELECT {listed} FROM {SCHEMA}.{table.name} WHERE trust_id = :trust_id"), params)


def _merge_model(connection: Connection, table: Table, params: dict[str, object]) -> None:
    """New or different rows upserted, live rows the shadow lacks deleted; each change announced.

    After the upsert every shadow row is live (both tables are unique by the key), so the live rows the shadow lacks
    are as many as the live rows outnumber the shadow's: two counts tell whether to look for them, and a rebuild
    seldom has any. Whole rebuilds of a million judgements whose switch finds nothing to change, ten each way in
    turn: the time after the replay 0.67–1.35× a round, median 0.81× (2.72 against 3.42 s in the second five).

    The upsert is given only the shadow rows the live table lacks or holds otherwise (one join of the two
    tables): ``ON CONFLICT DO UPDATE`` locks every live row it meets, the ones its ``WHERE`` then leaves as they
    are included, so given every row it wrote a lock into every page of every model on each switch (merging the
    models of a trust of 300,000 judgements that the rebuild left as they were: 1.5–2.2 s that way, 1.0 s now).

    Both compare the whole trust's rows, so :func:`swap` has them joined by hashing or merging, never in nested
    loops: the shadow was just filled, and the live rows of a trust just caught up can be unknown to the
    statistics, which then estimate the trust at one row and had the delete probe the shadow's key once per live
    row (a million judgements: 3.9 s)."""
    name, key = table.name, table.key
    listed = ("trust_id", *table.columns)
    same_key = "".join(f" AND s.{c} = live.{c}" for c in key)  # no key: one row per trust
    delete = with_notices(
        f"DELETE FROM public.{name} AS live WHERE live.trust_id = :trust_id AND NOT EXISTS "
        f"(SELECT FROM {SCHEMA}.{name} AS s WHERE s.trust_id = live.trust_id{same_key}) "
        f"RETURNING {', '.join(f'live.{c}' for c in ('trust_id', *key))}", name, key, deleted=True)
    differs = "live.trust_id IS NULL"
    if table.values:
        differs += (f" OR ROW({', '.join(f'live.{c}' for c in table.values)}) "
                    f"IS DISTINCT FROM ROW({', '.join(f's.{c}' for c in table.values)})")
    upsert = (f"INSERT INTO public.{name} ({', '.join(listed)}) SELECT {', '.join(f's.{c}' for c in listed)} "
              f"FROM {SCHEMA}.{name} AS s LEFT JOIN public.{name} AS live ON live.trust_id = s.trust_id{same_key} "
              f"WHERE s.trust_id = :trust_id AND ({differs}) ON CONFLICT ({', '.join(('trust_id', *key))}) DO ")
    upsert += ("UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in table.values)
               + changed_only(name, table.values, ())) if table.values else "NOTHING"
    connection.execute(with_notices(f"{upsert} RETURNING {', '.join(table.columns)}", name, key), params)
    surplus = connection.execute(text(
        f"SELECT (SELECT count(*) FROM public.{name} WHERE trust_id = :trust_id) "
        f"- (SELECT count(*) FROM {SCHEMA}.{name} WHERE trust_id = :trust_id)"), params).scalar_one()
    if surplus:
        connection.execute(delete, params)


def _drop_lookup_indexes(conn: Connection) -> None:
    """Each shadow table keeps its unique indexes (its keys, which the writer's loads and ``ON CONFLICT`` use) and
    none of the others.

    The live tables' other indexes serve the reads, and the shadow is read only by the rebuild: each replayed row
    cost every one of them an entry (``rm_judgements``' by pupil and objective was a sixth of a replay's inserts,
    8.3 against 6.9 µs a row, and ``rm_pupil_objective``'s by source and objective, every cell's until migration
    ``0025``, more than half of deriving a million judgements' cells). One reader misses it: the switch's tail
    recomputes the cells of corrected or withdrawn judgements (of every judgement, for a rollup other than
    ``latest``) from the shadow, which now reads all the trust's judgements for each page of the tail (~80 ms for a
    million against ~5 ms), under the projector's lock."""
    for index in conn.execute(text(
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "WHERE c.relnamespace = to_regnamespace(:schema) AND NOT i.indisunique AND NOT i.indisexclusion"),
            {"schema": SCHEMA}).scalars():
        conn.execute(text(f"DROP INDEX {index}"))


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


def _unlogged(conn: Connection, table: str) -> bool:
    """Whether the shadow table exists and is unlogged."""
    return conn.execute(text("SELECT relpersistence = 'u' FROM pg_class WHERE oid = to_regclass(:name)"),
                        {"name": f"{SCHEMA}.{table}"}).scalar() is True


def _live_tables(conn: Connection) -> set[str]:
    return set(conn.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).scalars())


def _columns(conn: Connection, schema: str, table: str) -> list[tuple[str, str, str]]:
    return [(r[0], r[1], r[2]) for r in conn.execute(text(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"),
        {"schema": schema, "table": table})]

