"""Change notices: every read-model row the projector changes is announced in ``change_notices``.

Why here and like this: a notice must exist exactly when its row change exists, so it is
written by the *same statement* that changes the row. Each upsert or delete is wrapped in a
data-modifying CTE: the changed rows (``RETURNING``) become notices numbered from the trust's
``change_heads.last_notice``, which the same statement advances. That costs no extra round
trip per table, keeps the numbering gapless per trust (the batch holds the trust's
``rm_positions`` lock, so no one else numbers concurrently), and rolls back with the rows
when a savepoint or the batch fails. A row rewritten with identical values is not a change:
the upserts only update rows whose values differ, so they return (and announce) only real
changes.

A notice carries the model (the table name without ``rm_``), the row's key columns, the
trust sequence the batch reached, and the new row (``null`` for a deleted row). The keys and the row are
stored as ``json``, the text ``json_build_object`` and ``row_to_json`` write, not as ``jsonb``: nothing
queries inside them (each reader hands them on whole), and converting every changed row to ``jsonb`` (its keys
sorted, each value parsed again into its binary form) was a tenth or more of PostgreSQL's CPU per projected
judgement on a slow host (migration ``0027``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import TextClause, text

NOTICE_TABLES: tuple[str, ...] = ("change_heads", "change_notices")
"""The tables every announcing statement writes besides its own."""

ENSURE_HEAD = "INSERT INTO change_heads (trust_id) VALUES (:trust_id) ON CONFLICT (trust_id) DO NOTHING"
"""Run before a batch's first change (see ``writer.lock_position``): a missing head would drop notices."""


def model_name(table: str) -> str:
    """``rm_pupil_objective`` → ``pupil_objective``: consumers see models, not table names."""
    return table.removeprefix("rm_")


def with_notices(change_sql: str, table: str, key_columns: Sequence[str], deleted: bool = False) -> TextClause:
    """``change_sql`` (an INSERT/UPDATE/DELETE ending in ``RETURNING`` the row's columns), announcing each row.

    The statement takes ``:trust_id`` and ``:notice_sequence`` besides the change's own parameters
    and answers with the number of notices written.
    """
    return text(noticed_sql(change_sql, table, key_columns, deleted))


def noticed_sql(change_sql: str, table: str, key_columns: Sequence[str], deleted: bool = False,
                placeholder: Callable[[str], str] = ":{}".format) -> str:
    """The text of :func:`with_notices`, its parameters written by ``placeholder`` (``"%({})s".format`` for a
    statement the driver runs itself)."""
    keys = ", ".join(f"'{column}', c.{column}" for column in key_columns)
    order = f"ORDER BY {', '.join(f'c.{column}' for column in key_columns)}" if key_columns else ""
    data = "NULL::json" if deleted else "row_to_json(c)"
    trust, sequence = placeholder("trust_id"), placeholder("notice_sequence")
    return (
        f"WITH c AS ({change_sql}), "
        f"head AS (SELECT last_notice FROM change_heads WHERE trust_id = {trust}), "
        "noticed AS (INSERT INTO change_notices (trust_id, notice_id, model, keys, sequence, data) "
        f"  SELECT {trust}, head.last_notice + row_number() OVER ({order}), '{model_name(table)}', "
        f"  json_build_object({keys}), {sequence}, {data} FROM c, head RETURNING notice_id), "
        "bumped AS (UPDATE change_heads SET last_notice = (SELECT max(notice_id) FROM noticed) "
        f"  WHERE trust_id = {trust} AND EXISTS (SELECT FROM noticed) RETURNING last_notice) "
        "SELECT count(*) FROM noticed"
    )


def changed_only(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """The ``WHERE`` of an upsert's ``DO UPDATE``: only rows whose values differ are rewritten."""
    values = [column for column in columns if column not in key]
    if not values:
        return ""
    stored = ", ".join(f"{table}.{column}" for column in values)
    excluded = ", ".join(f"EXCLUDED.{column}" for column in values)
    return f" WHERE ROW({stored}) IS DISTINCT FROM ROW({excluded})"
