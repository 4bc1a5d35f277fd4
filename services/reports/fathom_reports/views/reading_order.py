"""Names in the order a reader looks for them: pupils on a register; schools, classes, trusts and subjects in lists.

One rule for every listed name, applied here rather than by the database: ``ORDER BY name`` follows the
server's collation, and that differs between servers. ICU collations are not in every PostgreSQL build (the
embedded one has none), and ``C.UTF-8``, the local servers' collation, orders by code point: every capital
before every small letter ("Zeal Academy" before "abbey Primary"), accented letters after "z" ("École" last)
and "Class 10" before "Class 9". A production server created with ``en_US.utf8`` orders otherwise again.
Lists of names are short (a class's pupils, a trust's schools, classes and subjects), so sorting them here is
cheap.
"""

from __future__ import annotations

import re
import unicodedata

NameKey = tuple[str | tuple[int, str], ...]

_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ı": "i",
                               "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th"})
"""Latin letters that Unicode does not write as a base letter and a mark, spelled as their base letters."""
_DIGITS = re.compile(r"([0-9]+)")
NAME_ORDER = "In name order: compared without case or accents, numbers by value (\"Class 9\" before \"Class 10\")."
"""How the API documents a list in this order."""


def name_key(name: str | None) -> NameKey:
    """``name`` compared as a reader compares names: letters without case or accents, so "de Souza" files among
    the Ds, "Çelik" among the Cs and "Łukasz" among the Ls; a run of digits by its value, so "Class 9" comes
    before "Class 10". ``None`` and ``""`` give the same key."""
    if not name:
        return ("",)
    if name.isascii():  # most names, keyed on every read of a class: ASCII has no accents to take off
        folded = name.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSED))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    # split() alternates text and digit runs, starting with text, so two keys compare text with text and number
    # with number. A number is compared as (how many digits, the digits) without leading zeros: by value, for any
    # length (``int()`` refuses strings of over 4,300 digits).
    return tuple(_number(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(folded)))


def _number(digits: str) -> tuple[int, str]:
    significant = digits.lstrip("0")
    return (len(significant), significant)


def by_name(name: str | None, identifier: str) -> tuple[NameKey, str, str]:
    """The sort key of a named thing (a school, a class, a trust): its name as a reader reads it, then the exact
    spelling, then its id, so equal names still come in one order."""
    return (name_key(name), name or "", identifier)


def class_order(year_group: int, name: str | None, class_id: str) -> tuple[int, tuple[NameKey, str, str]]:
    """The sort key of a class in a list of a school's or a trust's classes: by year group, then by name."""
    return (year_group, by_name(name, class_id))


def register_order(erased: bool, family_name: str | None, given_name: str | None, pupil_id: str
                   ) -> tuple[object, ...]:
    """The sort key of a register: family name, then given name, each as :func:`name_key` compares them.

    Pupils the roster has no name for (``None`` or empty, as ``full_name`` treats them) follow the named ones,
    and erased pupils come last; the exact spelling, then the id, break ties.
    """
    if erased:  # its name is not shown, so it must not place the pupil either
        family_name = given_name = None
    return (erased, not family_name, name_key(family_name), not given_name, name_key(given_name),
            family_name or "", given_name or "", pupil_id)
