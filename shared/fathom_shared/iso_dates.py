"""ISO dates (``YYYY-MM-DD``) read from event data, each distinct text once.

A trust's judgements fall on a few hundred school days, and checking each judgement's date the way the event
schema does (a regular expression, then ``date.fromisoformat``) was about a fifth of the judgement fast path's
time (:func:`fathom_shared.events.upcast`). Only valid dates are remembered: an invalid one is checked each time.
"""

from __future__ import annotations

import re
from datetime import date

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAYS: dict[str, date] = {}
_DAYS_KEPT = 100_000
"""At most this many texts remembered (about 10 MB): past it the memo starts again rather than grow with odd data."""


def iso_date(text: str) -> date | None:
    """The day ``text`` names if it is an ISO date ``YYYY-MM-DD``; None if it is not."""
    day = _DAYS.get(text)
    if day is not None:
        return day
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if len(_DAYS) >= _DAYS_KEPT:
        _DAYS.clear()
    _DAYS[text] = day
    return day
