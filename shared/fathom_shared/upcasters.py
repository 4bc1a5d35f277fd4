"""The steps that bring an older event's data up one version: pure functions over the stored ``data``.

:data:`fathom_shared.events.UPCASTERS` says which step serves which (event type, version); a step never
mutates its input and sees only the data (not the event's metadata or when it was recorded), so what it
cannot know it leaves as None for the reader that does know to fill in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def judgement_recorded_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """``note`` becomes ``comment``; v1 judgements had no evidence reference."""
    upcast_data = {key: value for key, value in data.items() if key != "note"}
    upcast_data["comment"] = data.get("note")
    upcast_data.setdefault("evidence_ref", None)
    return upcast_data


def inline_to_legacy(renames: dict[str, str], refs: tuple[str, ...]) -> Upcaster:
    """An event of the version before erasable texts: its inline text moves to a ``legacy_`` field
    (``renames``: old name -> legacy name) and the new ``refs`` are None (nothing in ``personal_texts``)."""
    def step(data: dict[str, Any]) -> dict[str, Any]:
        upcast_data = {key: value for key, value in data.items() if key not in renames}
        upcast_data.update({legacy: data.get(old) for old, legacy in renames.items()})
        upcast_data.update(dict.fromkeys(refs))
        return upcast_data
    return step


reason_v1_to_v2 = inline_to_legacy({"reason": "legacy_reason"}, ("reason_ref",))


def pupil_registered_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 registration did not say when it took effect: ``enrolled_on`` is None, which readers take as the
    school day the event was recorded (:func:`fathom_shared.read_models.fold.enrolment_date`).

    That is exactly what v1 registrations meant to every view before v2, so an old trust's history reads as
    it always did, after any rebuild. A guess such as the first day of the class's academic year would move
    old pupils' memberships back in time and count teaching some of them never had (a pupil who joined in
    spring); the recorded day may start a membership too late, never too early. The step sees only the data,
    not when the event was recorded, hence None rather than the date itself.
    """
    return {**data, "enrolled_on": None}
