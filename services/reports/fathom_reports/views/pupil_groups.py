"""Pupil groups leaders filter and split by: the fixed flags and the trust's own custom groups.

One definition serves every view (class, school, trust analysis and intervention impact), so a
group means the same pupils everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

GroupPredicate = Callable[[Mapping[str, Any]], bool]
CUSTOM_PREFIX = "custom:"


def _sen(groups: Mapping[str, Any]) -> str:
    return groups.get("sen") or "none"


def _gender_is(*spellings: str) -> GroupPredicate:
    """Gender is free text from the MIS; accept the common spellings, ignore case."""
    accepted = frozenset(spellings)
    return lambda groups: str(groups.get("gender") or "").strip().casefold() in accepted


GROUP_FILTERS: dict[str, GroupPredicate] = {
    "pupil_premium": lambda g: bool(g.get("pupil_premium")),
    "not_pupil_premium": lambda g: not g.get("pupil_premium"),
    "sen": lambda g: _sen(g) in ("support", "ehcp"),
    "sen_support": lambda g: _sen(g) == "support",
    "sen_ehcp": lambda g: _sen(g) == "ehcp",
    "sen_none": lambda g: _sen(g) == "none",
    "eal": lambda g: bool(g.get("eal")),
    "not_eal": lambda g: not g.get("eal"),
    "more_able": lambda g: bool(g.get("more_able")),
    "female": _gender_is("female", "f"),
    "male": _gender_is("male", "m"),
}
"""The fixed groups; ``custom:<name>`` selects members of a trust-defined group as well."""


def custom_group_name(group: str) -> str | None:
    """``"custom:looked after"`` → ``"looked after"``; None for anything else (or an empty name)."""
    if group.startswith(CUSTOM_PREFIX):
        return group[len(CUSTOM_PREFIX):].strip() or None
    return None


def group_predicate(group: str) -> GroupPredicate:
    """The predicate for a fixed group or ``custom:<name>``; KeyError for an unknown name."""
    if group in GROUP_FILTERS:
        return GROUP_FILTERS[group]
    name = custom_group_name(group)
    if name is None:
        raise KeyError(group)
    return lambda groups: name in (groups.get("custom") or ())


def is_valid_group(group: str) -> bool:
    return group in GROUP_FILTERS or custom_group_name(group) is not None


def gender_label(groups: Mapping[str, Any]) -> str:
    """Gender as a split key: female / male / the MIS's own value / "unknown"."""
    raw = str(groups.get("gender") or "").strip()
    if GROUP_FILTERS["female"](groups):
        return "female"
    if GROUP_FILTERS["male"](groups):
        return "male"
    return raw.casefold() or "unknown"


GROUP_DIMENSIONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "pupil_premium": lambda g: "yes" if g.get("pupil_premium") else "no",
    "sen": _sen,
    "eal": lambda g: "yes" if g.get("eal") else "no",
    "gender": gender_label,
}
"""How impact and comparisons split pupils: dimension → the pupil's value in it."""
