"""The SELECT list that fills a view's value type from a read-model table.

The value type (:mod:`fathom_reports.views`) says which columns a view needs and in which order
(rows are unpacked positionally); the table spec (:mod:`fathom_shared.read_models.tables`) vouches
that each exists. A loader's list narrower than the table is therefore the view's choice, not a copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fathom_shared.read_models.tables import Table


def field_names(value_type: type) -> tuple[str, ...]:
    """A named tuple's or a dataclass's fields, in declaration order."""
    if dataclasses.is_dataclass(value_type):
        return tuple(field.name for field in dataclasses.fields(value_type))
    fields: tuple[str, ...] | None = getattr(value_type, "_fields", None)
    if fields is None:
        raise TypeError(f"{value_type.__name__} is neither a dataclass nor a named tuple")
    return fields


def select_for(table: Table, value_type: type, *, alias: str | None = None,
               resolved: Mapping[str, str] | None = None) -> str:
    """One column per field of ``value_type``; ``resolved`` replaces a column by an SQL expression
    (an erasable text read through its reference) written as it should appear in the list."""
    names = field_names(value_type)
    table.select_list(names)
    resolved = resolved or {}
    return ", ".join(resolved.get(name) or table.select_list((name,), alias=alias) for name in names)
