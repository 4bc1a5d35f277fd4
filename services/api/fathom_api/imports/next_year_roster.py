"""The new school year from next year's OneRoster files: the roster import's planning, then leavers and closures.

The files say where every pupil is next year, so no class mapping is needed: the import (as of the day the roll-over
takes effect, for classes of next year) creates the classes, registers new pupils, moves each known pupil into the
class of their enrollment and assigns teachers; the roll-over's rules (:mod:`fathom_api.commands.rollover`) add the
rest — every other pupil on roll in an open class of last year leaves, and those classes close.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Access
from fathom_api.commands.rollover import (
    RolloverPlan,
    RolloverRequest,
    RosterNow,
    check_request,
    class_order,
    read_roster,
)
from fathom_api.executor import Decide, Decision, combine
from fathom_api.imports.csv_table import RowErrors
from fathom_api.imports.oneroster import plan_roster_import, read_stored_roster
from fathom_api.imports.oneroster_files import ENROLLMENTS, read_bundle
from fathom_api.validation import school_today
from fathom_shared.auth import Principal
from fathom_shared.personal import staff_ref


def plan_after_roster(request: RolloverRequest, roster: RosterNow, moves: Mapping[str, tuple[str | None, int]],
                      enrolled: Mapping[str, tuple[str, str]], caller: Access, today: date) -> RolloverPlan:
    """The roll-over from next year's roster: the import moves the pupils it enrols (``moves``: pupil → class and
    year group), every other pupil on roll in an open class of last year leaves, and those classes close.

    ``enrolled``: pupil → (class, where the file says so): a roster of next year must not enrol anyone in a class of
    last year (that class is about to close), so such a row is refused where it is.
    """
    errors, last_year = check_request(request, roster, caller, today)
    plan = RolloverPlan(request)
    open_last = {class_id: c for class_id, c in last_year.items() if c.closed_on is None}
    for class_id, at in enrolled.values():
        if class_id in last_year:
            errors.add(at, f"Class {class_id} is a class of {request.from_year}: next year's roster enrols pupils in "
                           f"classes of {request.to_year}.")
    for pupil in sorted(roster.pupils.values(), key=lambda p: p.pupil_id):
        if pupil.left_on is not None or pupil.class_id not in open_last:
            continue
        if pupil.pupil_id in moves:
            to_class, year_group = moves[pupil.pupil_id]
            plan.pupils_moved.append({"pupil_id": pupil.pupil_id, "school_id": pupil.school_id,
                                      "from_class_id": pupil.class_id, "to_class_id": to_class,
                                      "from_year_group": pupil.year_group, "to_year_group": year_group})
        else:
            plan.leavers.append({"pupil_id": pupil.pupil_id, "school_id": pupil.school_id,
                                 "class_id": pupil.class_id, "year_group": pupil.year_group})
    plan.classes_closed = [{"class_id": c.class_id, "school_id": c.school_id, "name": c.name,
                            "year_group": c.year_group} for c in sorted(open_last.values(), key=class_order)]
    errors.raise_any()
    return plan


def roll_over_from_roster(query: dict[str, Any], files: dict[str, str]) -> Decide:
    """Start a new school year from next year's OneRoster files (orgs, classes, users, enrollments: as for
    ``POST /v1/roster/import``): the import's own planning, as of ``effective_on``, creates next year's classes
    (academic year ``to_year``), registers new pupils, moves each known pupil into the class of their enrollment and
    assigns teachers; then every other pupil on roll in an open class of ``from_year`` leaves and those classes
    close. Row problems are keyed ``<file>.<line>.<column>``; a dry run reports everything and appends nothing.
    """
    today = school_today()
    effective_on = query.get("effective_on") or today
    errors = RowErrors()
    bundle = read_bundle(files, errors, min(effective_on, today))
    request = RolloverRequest(from_year=query["from_year"], to_year=query["to_year"],
                              school_id=query.get("school_id"), classes={}, new_classes=[], leavers=[],
                              effective_on=effective_on)

    def decide(conn: Connection, principal: Principal) -> Decision:
        imported = plan_roster_import(bundle, read_stored_roster(conn, bundle), principal, request.to_year,
                                      min(effective_on, today), errors, lambda sub: staff_ref(conn, sub))
        new_events = [e for d in imported.decisions for e in d.events]
        moves = {e.data["pupil_id"]: (e.data["class_id"], e.data["year_group"])
                 for e in new_events if e.event_type == "PupilMoved"}
        enrolled = {pupil_id: (line.values["class_id"], f"{ENROLLMENTS}.{line.line}.classSourcedId")
                    for pupil_id, line in bundle.pupil_class.items()}
        plan = plan_after_roster(request, read_roster(conn, request), moves, enrolled, Access(principal),
                                 school_today())
        plan.classes_created = [e.data for e in new_events if e.event_type == "ClassCreated"]
        report = {**plan.report(query["dry_run"]), "import": imported.report_counts()}
        if query["dry_run"] or not (new_events or plan.changes):
            return Decision(events=[], report=report, status=200)
        return combine([*imported.decisions, Decision(events=plan.leaving_and_closing())], report=report, status=201)

    return decide
