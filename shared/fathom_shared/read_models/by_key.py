"""A table's rows found by key: the live writer's look-ups of the rows a batch amends, and its deletes.

Both find rows the same way, in the table's primary key ``(trust_id, *key)``: ``= ANY`` of each of the key's columns
(for a key of more columns then matched whole with the keys' rows), in the key's order, planned without sorts
(:mod:`fathom_shared.planning`), so that the primary key is the only plan whatever the statistics say of the trust;
a delete then deletes the rows so found by their row ids. Joined with the keys' rows, the table was hash-joined with
the trust's every row when the statistics estimated the trust at one row (a trust onboarded since the last
``ANALYZE``): the corrections of the benchmark's history took 150–300 ms a batch at a million judgements, and a
delete of 50 cells read 20,000 (``tests/integration/test_read_model_statistics.py``). In the key's order without the
``ORDER BY``, another index (``rm_judgements_pupil_objective``) looked as cheap and was scanned whole.

For a key of several columns what is read is every combination of the keys' values (for cells, their pupils ×
objectives × sources): for keys scattered over the trust more than the keys, bounded by the batch, and a plan
no statistics can change rather than an exact one they can. (A recomputed cell's judgements are asked in groups
whose combinations are all cells: ``current._pupils_and_objectives``.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection

from fathom_shared.planning import fetch_by_row_id_only, fetch_without_sorts
from fathom_shared.read_models.arrays import COLUMN_TYPES, PARAMETER, array_params, unnest
from fathom_shared.read_models.notices import noticed_sql
from fathom_shared.read_models.projection import Loaded
from fathom_shared.read_models.tables import PUPIL_CLASSES, READ_MODELS, TABLES, Key, Table


def _driver(name: str) -> str:
    """A parameter in the driver's style: every statement here runs on the driver, in a pipeline with its settings."""
    return f"%({name})s"


def _by_pupil(table: Table, looking_up: bool) -> bool:
    """Whether the rows are found by their pupil alone: ``rm_pupil_classes``' look-up reads each pupil's open rows,
    whatever their class (a move closes the one it finds); its deletes, as every table's, name whole keys."""
    return looking_up and table is PUPIL_CLASSES


def _found(table: Table, alias: str, looking_up: bool) -> str:
    """The ``WHERE`` and ``ORDER BY`` that find the rows of the keys :func:`key_params` gives, in the key's order."""
    found = f"{alias}.trust_id = {_driver('trust_id')}"
    for column in _probed(table, looking_up):
        found += (f" AND {alias}.{column} = "
                  f"ANY(CAST({_driver(_values(column))} AS {COLUMN_TYPES.get(column, 'text')}[]))")
    if _by_pupil(table, looking_up):
        found += f" AND {alias}.to_date IS NULL"
    elif len(table.key) > 1:
        keys = unnest(table.key, "k", _driver(PARAMETER))
        found += f" AND ({', '.join(f'{alias}.{c}' for c in table.key)}) IN (SELECT * FROM {keys})"
    return found + f" ORDER BY {', '.join(f'{alias}.{c}' for c in table.key)}"


def _probed(table: Table, looking_up: bool) -> tuple[str, ...]:
    """The key's columns given to the index as ``= ANY`` of their values: each of them, so that what is read is the
    cross product of the keys' values (for cells, their pupils × objectives × sources), not a pupil's every row."""
    return table.key[:1] if _by_pupil(table, looking_up) else table.key


def _values(column: str) -> str:
    return f"any_{column}"


def _key_params(table: Table, keys: Collection[Key], looking_up: bool) -> dict[str, Any]:
    """The parameters of a look-up or delete of ``keys`` (but ``trust_id``)."""
    params: dict[str, Any] = {_values(column): sorted({str(key[i]) for key in keys})
                              for i, column in enumerate(_probed(table, looking_up))}
    if len(table.key) > 1 and not _by_pupil(table, looking_up):
        params.update(array_params(table.key, [dict(zip(table.key, key, strict=True)) for key in keys]))
    return params


def _load_sql(table: Table) -> str:
    """The stored rows of the given keys (for ``rm_pupil_classes`` the pupils' open rows), for the driver; for a
    key-less table (the trust's one row) its row."""
    sql = f"SELECT {', '.join(table.columns)} FROM {table.name} t"
    if not table.key:
        return f"{sql} WHERE t.trust_id = %(trust_id)s"
    return f"{sql} WHERE {_found(table, 't', looking_up=True)}"


def _delete_sql(table: Table) -> str:
    """``DELETE`` the rows of the given keys, announcing each deleted row (a notice without data), for the driver:
    by their row ids, which a select finds as :func:`_load_sql` finds rows. Planned with every other way to the
    rows switched off (:data:`~fathom_shared.planning.BY_ROW_ID_ONLY`): with the trust's condition beside the row
    ids, a scan of the trust's every row looked cheaper to a planner that estimated the trust at one row (50 cells'
    delete read 20,050 entries). The row ids stay those of the rows found: the batch holds the trust's
    ``rm_positions`` lock, so no one else changes its read models in between."""
    keys = ", ".join(f"t.{c}" for c in table.key)
    return noticed_sql(f"DELETE FROM {table.name} t WHERE t.trust_id = %(trust_id)s AND t.ctid = ANY(ARRAY("
                       f"SELECT s.ctid FROM {table.name} s WHERE {_found(table, 's', looking_up=False)})) "
                       f"RETURNING {keys}", table.name, table.key, deleted=True, placeholder=_driver)


_LOADS: dict[str, str] = {table.name: _load_sql(table) for table in TABLES}
_DELETES: dict[str, str] = {table.name: _delete_sql(table) for table in READ_MODELS if table.key}


def load(connection: Connection, trust_id: str, keys: dict[Table, set[Key]]) -> Loaded:
    """One query per table for the stored rows a batch amends."""
    loaded = Loaded()
    for table, table_keys in keys.items():
        params: dict[str, Any] = {"trust_id": trust_id}
        if not table.key:  # the trust's one row (every batch reads the settings): no plan to choose
            found = connection.exec_driver_sql(_LOADS[table.name], params).all()
        else:
            found = fetch_without_sorts(connection, _LOADS[table.name],
                                        {**params, **_key_params(table, table_keys, looking_up=True)})
        loaded.rows[table.name] = {table.key_of(row): row for row in (dict(zip(table.columns, r, strict=True))
                                                                      for r in found)}
    return loaded


def delete(connection: Connection, trust_id: str, table: Table, keys: Collection[Key], sequence: int) -> None:
    """Delete the rows of ``keys`` from ``table``, announced as of ``sequence``, in one round trip."""
    fetch_by_row_id_only(connection, _DELETES[table.name], {"trust_id": trust_id, "notice_sequence": sequence,
                                                            **_key_params(table, keys, looking_up=False)})
