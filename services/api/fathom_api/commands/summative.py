"""Summative judgements: the trust's scale, and a class's grid of codes at an assessment point.

The scale (``SummativeScaleChosen`` on ``summative_scale`` / ``trust``) is the trust leader's, whole: a preset
or the trust's own codes. A code a judgement was ever given keeps its code and rank (the log and the audit
history go on showing it), so a change that would remove, rename or re-rank one is a 409 naming it.

A grid save records one ``SummativeJudgementRecorded`` per pupil entered (stream ``summative`` / the pupil),
all or nothing: the point must be one of the trust's calendar for the year and not of a year after the class's
(:func:`~fathom_shared.assessment_calendar.beyond_class_year`: 422 naming ``academic_year``, bad input like a
pupil not of the class, not a conflict — the class's year never changes), every pupil on the roll of the class,
every code one of the scale's. A second judgement of the same pupil, subject and point replaces the
first as the current one (both stay in the log). Teachers save for their classes, leaders for their school
or trust, as for objective judgements. Corrections and withdrawals:
:mod:`fathom_api.commands.summative_amendments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Actor, actor, require_trust_wide
from fathom_api.command_tables import class_row, pupils_by_id
from fathom_api.commands.calendar import calendar_points
from fathom_api.executor import Decide, Decision
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_api.validation import Errors, refuse_closed, require_assessor
from fathom_shared.assessment_calendar import AssessmentPoint, beyond_class_year
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent, data_values_present, read_streams
from fathom_shared.events import serialise, upcast
from fathom_shared.personal import TextBatch
from fathom_shared.summative_scale import PRESETS, code_of, codes_a_change_drops, default_scale, scale_problems

SCALE_STREAM = ("summative_scale", "trust")
STREAM = "summative"
CODE_EVENTS = ("SummativeJudgementRecorded", "SummativeJudgementCorrected")
"""The events that give a pupil a code (indexed for :func:`codes_in_use` by migration ``0017``)."""
MAX_ENTRIES = 200


def current_scale(conn: Connection) -> tuple[dict[str, Any], int]:
    """The trust's scale (the default until it chose one) and the scale stream's version."""
    events = read_streams(conn, streams=[SCALE_STREAM])
    if not events:
        return default_scale(), 0
    last = events[-1]
    return upcast(last.event_type, last.schema_version, last.data), last.stream_version


def codes_in_use(conn: Connection, codes: Sequence[str]) -> set[str]:
    """Those of ``codes`` any summative judgement or correction in the trust's log gave (even one later
    withdrawn or replaced: its events still show the code)."""
    return data_values_present(conn, CODE_EVENTS, "code", codes)


def decide_scale(new: Mapping[str, Any], old: Mapping[str, Any], in_use: set[str],
                 caller: Principal) -> list[NewEvent]:
    """``SummativeScaleChosen`` if the caller sets trust-wide things, ``new`` is a scale and keeps every code
    in use (``in_use``: of the codes ``new`` would drop, those judgements hold) as it was."""
    require_trust_wide(caller, "the summative scale")
    problems = scale_problems(new)
    if problems:
        raise Invalid("Nothing was recorded.", errors=problems)
    dropped = [code for code in codes_a_change_drops(old, new) if code in in_use]
    if dropped:
        raise Conflict("Recorded judgements hold codes this change removes, renames or re-ranks.", errors={
            "codes": [f"{code} is in use: keep its code and rank (its label and words may change)."
                      for code in dropped]})
    data = serialise("SummativeScaleChosen", {k: new[k] for k in ("scale_id", "name", "codes", "expected_rank")})
    return [NewEvent(*SCALE_STREAM, "SummativeScaleChosen", data)]


def _choose(conn: Connection, principal: Principal, new: Mapping[str, Any]) -> Decision:
    require_trust_wide(principal, "the summative scale")
    old, version = current_scale(conn)
    in_use = codes_in_use(conn, codes_a_change_drops(old, new)) if scale_problems(new) == {} else set()
    return Decision(events=decide_scale(new, old, in_use, principal), resource_id=new["scale_id"],
                    expected_versions={SCALE_STREAM: version})


def define_scale(payload: dict[str, Any]) -> Decide:
    """Set the trust's own summative scale: ordered codes (code, label for staff, words for parents, rank) and
    the expected rank. A code judgements were given keeps its code and rank (409 naming it otherwise)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        return _choose(conn, principal, {**payload, "scale_id": payload.get("scale_id") or "own"})

    return decide


def choose_preset(_payload: dict[str, Any], preset: str) -> Decide:
    """Choose a ready-made summative scale (``wts-exs-gds``, ``below-just-below-at-above``); a code judgements
    were given must stay (409 naming it otherwise)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_trust_wide(principal, "the summative scale")
        if preset not in PRESETS:
            raise NotFound(f"No summative preset {preset!r} (presets: {', '.join(PRESETS)}).")
        return _choose(conn, principal, PRESETS[preset])

    return decide


def decide_grid(class_id: str, klass: Any, grid: Mapping[str, Any], caller: Actor, pupils: Mapping[str, Any],
                scale: Mapping[str, Any], points: Sequence[AssessmentPoint], texts: TextBatch) -> list[NewEvent]:
    """``SummativeJudgementRecorded`` for every entry of the grid, or every problem at once (nothing recorded).

    ``klass``: the class's roster row (None: unknown); ``pupils``: the roster rows the entries name."""
    require_assessor(caller)
    if klass is None:
        raise NotFound(f"No class {class_id}.")
    if not caller.may_act_on(klass.school_id, class_id):
        raise Forbidden("This is not one of your classes.")
    refuse_closed(klass)  # 409: last year's class after a roll-over keeps its codes as they were
    errors = Errors()
    year = grid["academic_year"]
    beyond = beyond_class_year(klass.academic_year, year)
    if beyond is not None:
        errors.add("academic_year", beyond)
    elif grid["point_id"] not in {point.point_id for point in points}:
        errors.add("point_id", f"Not an assessment point of {year} "
                               f"(points: {', '.join(point.point_id for point in points)}).")
    seen: set[str] = set()
    events = []
    for n, entry in enumerate(grid["entries"]):
        pupil_id, pupil = entry["pupil_id"], pupils.get(entry["pupil_id"])
        if pupil is None or pupil.class_id != class_id:
            errors.add(f"entries.{n}.pupil_id", "Not a pupil of this class.")
        elif pupil.left_on is not None:
            errors.add(f"entries.{n}.pupil_id", "Pupil has left.")
        elif pupil_id in seen:
            errors.add(f"entries.{n}.pupil_id", "This pupil is in the grid twice.")
        seen.add(pupil_id)
        code = code_of(scale, entry["code"])
        if code is None:
            allowed = ", ".join(c["code"] for c in scale["codes"])
            errors.add(f"entries.{n}.code", f"Not a code of the trust's summative scale (codes: {allowed}).")
            continue
        judgement_id = uuid.uuid4()
        data = serialise("SummativeJudgementRecorded", {
            "judgement_id": str(judgement_id), "pupil_id": pupil_id, "class_id": class_id,
            "subject": grid["subject"], "academic_year": year, "point_id": grid["point_id"], "code": code,
            "note_ref": texts.add(entry.get("note"), pupil_id=pupil_id)})
        events.append(NewEvent(STREAM, pupil_id, "SummativeJudgementRecorded", data, event_id=judgement_id))
    errors.raise_any()
    return events


def record_grid(payload: dict[str, Any], class_id: str) -> Decide:
    """Save a class's summative codes for one subject at one assessment point, all or nothing.

    Each entry is a pupil of the class with a code of the trust's scale and an optional note. A pupil who
    already has a judgement for the subject at the point gets this one instead (the earlier stays in the log:
    correct or withdraw a judgement through its own endpoints to keep the record of why)."""

    def decide(conn: Connection, principal: Principal) -> Decision:
        require_assessor(principal)
        if len(payload["entries"]) > MAX_ENTRIES:
            raise Invalid(errors={"entries": [f"At most {MAX_ENTRIES} entries in one grid."]})
        texts = TextBatch()
        scale, version = current_scale(conn)
        events = decide_grid(class_id, class_row(conn, class_id), payload, actor(conn, principal),
                             pupils_by_id(conn, (entry["pupil_id"] for entry in payload["entries"])), scale,
                             calendar_points(conn, payload["academic_year"]), texts)
        texts.keep(conn)
        return Decision(events=events, resource_id=class_id, expected_versions={SCALE_STREAM: version})

    return decide
