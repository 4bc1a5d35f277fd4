"""The new school year: pupils move up into next year's classes, leavers leave, last year's classes close.

A roll-over is one command over a whole trust (trust leaders) or one school (its leaders). It names the
classes of next year to create, where each of last year's classes goes (``old class → new class``, or
``null`` when all its pupils leave), and the leavers (a list, or ``"top_year_group"``: every pupil in the
school's highest year group). The rules below are pure: :func:`plan_rollover` compares the request with the
roster it was given and either refuses it (every problem at once, by field) or returns the
:class:`RolloverPlan` — exactly what a dry run reports and a real run appends, in one transaction:
``ClassCreated``, ``PupilMoved`` (dated ``effective_on``: class history follows it), ``PupilLeft`` and
``ClassClosed`` (last year's classes become read-only). Events carry ids only; history stays with each pupil.

Running the same roll-over again appends nothing: a closed class was rolled over already, a class that
exists as asked for was created already, a pupil who left has left. The second run answers 200 with empty
lists and says what was ``already_done``. (The same from next year's roster files:
:mod:`fathom_api.imports.next_year_roster`.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from fathom_api.access import Access
from fathom_api.command_tables import schools_by_id
from fathom_api.commands.creation import created
from fathom_api.executor import Decide, Decision, combine
from fathom_api.refusals import Forbidden, Invalid
from fathom_api.validation import Errors, check_not_future, school_today
from fathom_shared.assessment_calendar import first_calendar_year
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import CURRENT_VERSION

TOP_YEAR_GROUP = "top_year_group"
"""``leavers``: every pupil on roll in the school's highest year group of last year leaves."""
MAX_YEAR_GROUP = 13
MAX_LISTED = 10
"""Pupil ids named in one refusal message (the count says how many there are)."""


@dataclass(frozen=True)
class RolloverRequest:
    """What the caller asks for (see ``RolloverIn`` for the fields' meaning)."""

    from_year: str
    to_year: str
    school_id: str | None
    classes: Mapping[str, str | None]
    new_classes: Sequence[Mapping[str, Any]]
    leavers: Sequence[str] | str
    effective_on: date


@dataclass(frozen=True)
class RosterNow:
    """The roster rows the plan compares the request with (a test gives named tuples).

    ``classes``: at least every class of both years and every class the request names (``class_id``,
    ``school_id``, ``name``, ``year_group``, ``academic_year``, ``closed_on``); ``pupils``: at least every pupil
    on roll in last year's classes and every listed leaver (``pupil_id``, ``school_id``, ``class_id``,
    ``year_group``, ``left_on``); ``schools``: the known ids among those named."""

    schools: Collection[str]
    classes: Mapping[str, Any]
    pupils: Mapping[str, Any]


@dataclass
class RolloverPlan:
    """Exactly what will change, in the order it is appended."""

    request: RolloverRequest
    classes_created: list[dict[str, Any]] = field(default_factory=list)
    pupils_moved: list[dict[str, Any]] = field(default_factory=list)
    leavers: list[dict[str, Any]] = field(default_factory=list)
    classes_closed: list[dict[str, Any]] = field(default_factory=list)
    already_done: dict[str, list[str]] = field(default_factory=lambda: {
        "classes_created": [], "classes_closed": [], "leavers": []})

    @property
    def changes(self) -> int:
        return len(self.classes_created) + len(self.pupils_moved) + len(self.leavers) + len(self.classes_closed)

    def report(self, dry_run: bool) -> dict[str, Any]:
        """The answer of a dry run and of a real run alike (a real run adds the events' sequences)."""
        request = self.request
        return {"dry_run": dry_run, "from_year": request.from_year, "to_year": request.to_year,
                "school_id": request.school_id, "effective_on": request.effective_on.isoformat(),
                "classes_created": self.classes_created, "pupils_moved": self.pupils_moved, "leavers": self.leavers,
                "classes_closed": self.classes_closed, "already_done": self.already_done,
                "counts": {"classes_created": len(self.classes_created), "pupils_moved": len(self.pupils_moved),
                           "leavers": len(self.leavers), "classes_closed": len(self.classes_closed)}}

    def decision(self, dry_run: bool) -> Decision:
        """Nothing appended for a dry run or when everything was done already (200); else every event (201)."""
        report = self.report(dry_run)
        if dry_run or not self.changes:
            return Decision(events=[], report=report, status=200)
        on = self.request.effective_on.isoformat()
        creations = [created("class", c["class_id"], "ClassCreated", c) for c in self.classes_created]
        moves = [_event("pupil", m["pupil_id"], "PupilMoved", {
                    "pupil_id": m["pupil_id"], "class_id": m["to_class_id"], "year_group": m["to_year_group"],
                    "moved_on": on}) for m in self.pupils_moved]
        return combine([*creations, Decision(events=[*moves, *self.leaving_and_closing()])], report=report, status=201)

    def leaving_and_closing(self) -> list[NewEvent]:
        """``PupilLeft`` for each leaver, then ``ClassClosed`` for each of last year's classes (after the moves)."""
        on = self.request.effective_on.isoformat()
        return [*(_event("pupil", p["pupil_id"], "PupilLeft", {"pupil_id": p["pupil_id"], "left_on": on})
                  for p in self.leavers),
                *(_event("class", c["class_id"], "ClassClosed", {"class_id": c["class_id"], "closed_on": on})
                  for c in self.classes_closed)]


def _event(stream_type: str, stream_id: str, event_type: str, data: dict[str, Any]) -> NewEvent:
    """Built directly in stored form (every value was checked by the plan): a trust's roll-over appends one
    event per pupil, thousands at once."""
    return NewEvent(stream_type, stream_id, event_type, data, schema_version=CURRENT_VERSION[event_type])


def next_academic_year(academic_year: str) -> str | None:
    """``2026-27`` → ``2027-28`` (None for text that is not an academic year)."""
    first = first_calendar_year(academic_year)
    return None if first is None else f"{first + 1}-{(first + 2) % 100:02d}"


def plan_rollover(request: RolloverRequest, roster: RosterNow, caller: Access, today: date) -> RolloverPlan:
    """The plan, or every problem at once (422 by field; 403 when the scope is not the caller's).

    Rules: ``to_year`` is the year after ``from_year``; ``effective_on`` is not in the future (Fathom keeps who is
    in a class, not planned moves); every pupil on roll in an open class of last year (in scope) is either a
    leaver or mapped, through their class, to a class of next year in the same school (an existing open one or
    one of ``new_classes``); each moves up one year group. Every open class of last year in scope closes.
    """
    errors, last_year = check_request(request, roster, caller, today)
    plan = RolloverPlan(request)
    open_last = {class_id: c for class_id, c in last_year.items() if c.closed_on is None}
    targets = _plan_new_classes(request, roster, caller, errors, plan)
    mapping = _plan_mapping(request, roster, last_year, targets, errors, plan)
    leavers = _plan_leavers(request, roster, last_year, open_last, caller, errors, plan)
    _plan_moves(request, roster, open_last, mapping, leavers, targets, errors, plan)
    plan.classes_closed = [{"class_id": c.class_id, "school_id": c.school_id, "name": c.name,
                            "year_group": c.year_group} for c in sorted(open_last.values(), key=class_order)]
    errors.raise_any()
    return plan


def check_request(request: RolloverRequest, roster: RosterNow, caller: Access,
                   today: date) -> tuple[Errors, dict[str, Any]]:
    """What every roll-over checks first: the scope is the caller's (403), the years follow each other, the day is
    not in the future, and there are classes of last year in scope. Returns the problems so far and those classes."""
    scope = request.school_id
    if scope is not None and scope not in roster.schools:
        raise Invalid("Nothing was changed.", errors={"school_id": ["Unknown school."]})
    if not caller.may_roll_over(scope):
        raise Forbidden("Only trust leaders roll over the whole trust; a school leader rolls over their own school "
                        "(give school_id).",
                        errors={"school_id": ["Not one of your schools." if scope else "Required."]})
    errors = Errors()
    expected_year = next_academic_year(request.from_year)
    if request.to_year != expected_year:
        errors.add("to_year", f"Expected {expected_year}, the year after from_year.")
    check_not_future(errors, "effective_on", request.effective_on, today)
    last_year = {c.class_id: c for c in roster.classes.values()
                 if c.academic_year == request.from_year and (scope is None or c.school_id == scope)}
    if not last_year:
        errors.add("from_year", f"No classes of {request.from_year}" + (" in this school." if scope else "."))
    return errors, last_year


def class_order(klass: Any) -> tuple[Any, ...]:
    return (klass.school_id, klass.year_group, klass.name, klass.class_id)


def _plan_new_classes(request: RolloverRequest, roster: RosterNow, caller: Access, errors: Errors,
                      plan: RolloverPlan) -> dict[str, dict[str, Any]]:
    """Next year's classes to create (or already created exactly so), by id: the mapping's possible targets."""
    targets: dict[str, dict[str, Any]] = {}
    for n, new in enumerate(request.new_classes):
        at, class_id = f"new_classes.{n}", new["class_id"]
        data = {"class_id": class_id, "school_id": new["school_id"], "name": new["name"],
                "year_group": new["year_group"], "academic_year": request.to_year}
        if new["school_id"] not in roster.schools:
            errors.add(f"{at}.school_id", "Unknown school.")
            continue
        if request.school_id is not None and new["school_id"] != request.school_id:
            errors.add(f"{at}.school_id", "Not the school being rolled over.")
            continue
        if not caller.may_keep_roster(new["school_id"]):
            errors.deny(f"{at}.school_id", "Not one of your schools.")
            continue
        if class_id in targets:
            errors.add(f"{at}.class_id", "Listed twice.")
            continue
        stored = roster.classes.get(class_id)
        if stored is None:
            plan.classes_created.append(data)
        elif {k: getattr(stored, k) for k in data} == data and stored.closed_on is None:
            plan.already_done["classes_created"].append(class_id)
        else:
            errors.add(f"{at}.class_id", "Already in use by another class.")
            continue
        targets[class_id] = data
    return targets


def _plan_mapping(request: RolloverRequest, roster: RosterNow, last_year: Mapping[str, Any],
                  targets: Mapping[str, dict[str, Any]], errors: Errors, plan: RolloverPlan) -> dict[str, str | None]:
    """Each open class of last year named in ``classes`` → its class of next year (None: nobody continues)."""
    mapping: dict[str, str | None] = {}
    for old_id, new_id in request.classes.items():
        at, old = f"classes.{old_id}", roster.classes.get(old_id)
        if old is None:
            errors.add(at, "Unknown class.")
            continue
        if old_id not in last_year:
            errors.add(at, f"Not a class of {request.from_year}" + (" in this school." if request.school_id else "."))
            continue
        if old.closed_on is not None:
            plan.already_done["classes_closed"].append(old_id)
            continue
        if new_id is not None:
            problem = _target_problem(request, roster, targets, old, new_id)
            if problem:
                errors.add(at, problem)
                continue
        mapping[old_id] = new_id
    return mapping


def _target_problem(request: RolloverRequest, roster: RosterNow, targets: Mapping[str, dict[str, Any]], old: Any,
                    new_id: str) -> str | None:
    """Why ``new_id`` cannot receive ``old``'s pupils, if it cannot."""
    if new_id in targets:
        school_id = targets[new_id]["school_id"]
    elif (stored := roster.classes.get(new_id)) is None:
        return f"Unknown class {new_id}: not in new_classes nor in this trust."
    elif stored.academic_year != request.to_year:
        return f"Class {new_id} is not a class of {request.to_year}."
    elif stored.closed_on is not None:
        return f"Class {new_id} is closed."
    else:
        school_id = stored.school_id
    return None if school_id == old.school_id else f"Class {new_id} is in another school."


def _plan_leavers(request: RolloverRequest, roster: RosterNow, last_year: Mapping[str, Any],
                  open_last: Mapping[str, Any], caller: Access, errors: Errors, plan: RolloverPlan) -> set[str]:
    """The pupils who leave (each on roll, in scope); a listed pupil who has left already is done already."""
    if request.leavers == TOP_YEAR_GROUP:
        top: dict[str, int] = {}
        for klass in last_year.values():
            top[klass.school_id] = max(top.get(klass.school_id, klass.year_group), klass.year_group)
        leaving = [p for p in roster.pupils.values() if p.left_on is None and p.class_id in open_last
                   and p.year_group >= top[open_last[p.class_id].school_id]]
    else:
        leaving = []
        for n, pupil_id in enumerate(request.leavers):
            pupil, at = roster.pupils.get(pupil_id), f"leavers.{n}"
            if pupil is None:
                errors.add(at, "Unknown pupil.")
            elif not caller.may_keep_roster(pupil.school_id):
                errors.deny(at, "Not a pupil of one of your schools.")
            elif request.school_id is not None and pupil.school_id != request.school_id:
                errors.add(at, "Not a pupil of the school being rolled over.")
            elif pupil.left_on is not None:
                plan.already_done["leavers"].append(pupil_id)
            elif pupil_id not in {p.pupil_id for p in leaving}:
                leaving.append(pupil)
    leaving.sort(key=lambda p: p.pupil_id)
    plan.leavers = [{"pupil_id": p.pupil_id, "school_id": p.school_id, "class_id": p.class_id,
                     "year_group": p.year_group} for p in leaving]
    return {p.pupil_id for p in leaving}


def _plan_moves(request: RolloverRequest, roster: RosterNow, open_last: Mapping[str, Any],
                mapping: Mapping[str, str | None], leavers: Collection[str], targets: Mapping[str, dict[str, Any]],
                errors: Errors, plan: RolloverPlan) -> None:
    """Every other pupil on roll in an open class of last year moves up, through their class's mapping."""
    unmapped: dict[str, list[str]] = {}
    for pupil in sorted(roster.pupils.values(), key=lambda p: p.pupil_id):
        if pupil.left_on is not None or pupil.class_id not in open_last or pupil.pupil_id in leavers:
            continue
        to_class = mapping.get(pupil.class_id)
        if to_class is None:
            unmapped.setdefault(pupil.class_id, []).append(pupil.pupil_id)
            continue
        if pupil.year_group >= MAX_YEAR_GROUP:
            errors.add(f"classes.{pupil.class_id}", f"Pupil {pupil.pupil_id} is in Year {pupil.year_group}, the last: "
                       "list them as a leaver.")
            continue
        plan.pupils_moved.append({"pupil_id": pupil.pupil_id, "school_id": pupil.school_id,
                                  "from_class_id": pupil.class_id, "to_class_id": to_class,
                                  "from_year_group": pupil.year_group, "to_year_group": pupil.year_group + 1})
    for class_id, pupil_ids in sorted(unmapped.items()):
        how = ("is mapped to no class" if class_id in mapping else f"has no entry in classes (nor in "
               f"{request.to_year}'s new classes)")
        listed = ", ".join(pupil_ids[:MAX_LISTED]) + (", ..." if len(pupil_ids) > MAX_LISTED else "")
        errors.add(f"classes.{class_id}", f"Not mapped: the class {how}, and {len(pupil_ids)} of its pupils are not "
                   f"leavers ({listed}). Map it to a class of {request.to_year} or list them as leavers.")


# --- reading the roster and running the command ---------------------------------------------------------------

_CLASSES = text(
    "SELECT class_id, school_id, name, year_group, academic_year, closed_on FROM classes "
    "WHERE trust_id = current_setting('fathom.trust') AND (academic_year = ANY(:years) OR class_id = ANY(:named)) "
    "ORDER BY class_id FOR UPDATE")
"""Locked: two roll-overs of the same classes are serialised, so the second sees the first's closures."""
_PUPILS = text(
    "SELECT pupil_id, school_id, class_id, year_group, left_on FROM pupils "
    "WHERE trust_id = current_setting('fathom.trust') "
    "AND ((left_on IS NULL AND class_id = ANY(:classes)) OR pupil_id = ANY(:named)) ORDER BY pupil_id FOR UPDATE")
"""One statement for every pupil of last year's open classes (a trust's thousands) and the named leavers."""


def read_roster(conn: Connection, request: RolloverRequest) -> RosterNow:
    """The rows :func:`plan_rollover` needs, read set-based in three statements and locked."""
    named = sorted({*request.classes, *(c for c in request.classes.values() if c),
                    *(c["class_id"] for c in request.new_classes)})
    classes = {r.class_id: r for r in conn.execute(_CLASSES, {"years": [request.from_year, request.to_year],
                                                              "named": named})}
    open_last = [c.class_id for c in classes.values() if c.academic_year == request.from_year and c.closed_on is None
                 and (request.school_id is None or c.school_id == request.school_id)]
    listed = [] if isinstance(request.leavers, str) else sorted(set(request.leavers))
    pupils = {r.pupil_id: r for r in conn.execute(_PUPILS, {"classes": open_last, "named": listed})}
    school_ids = {*(c["school_id"] for c in request.new_classes), *([request.school_id] if request.school_id else [])}
    return RosterNow(set(schools_by_id(conn, school_ids)), classes, pupils)


def roll_over(payload: dict[str, Any]) -> Decide:
    """Start a new school year for the trust, or for one school (``school_id``): see the module's docstring."""
    request = RolloverRequest(
        from_year=payload["from_year"], to_year=payload["to_year"], school_id=payload.get("school_id"),
        classes=payload["classes"], new_classes=payload["new_classes"], leavers=payload["leavers"],
        effective_on=payload.get("effective_on") or school_today())

    def decide(conn: Connection, principal: Principal) -> Decision:
        plan = plan_rollover(request, read_roster(conn, request), Access(principal), school_today())
        return plan.decision(payload["dry_run"])

    return decide

