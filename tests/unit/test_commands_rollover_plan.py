"""The new school year's planning rules on in-memory roster rows (no database, no request)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

from fathom_api.commands.rollover import (
    RolloverRequest,
    RosterNow,
    next_academic_year,
    plan_rollover,
)
from fathom_api.imports.next_year_roster import plan_after_roster
from fathom_api.refusals import Forbidden, Invalid
from tests.unit.command_fakes import caller

TODAY = date(2027, 9, 2)
LAST, NEXT = "2026-27", "2027-28"


class Klass(NamedTuple):
    class_id: str
    school_id: str
    name: str
    year_group: int
    academic_year: str
    closed_on: date | None = None


class Pupil(NamedTuple):
    pupil_id: str
    school_id: str
    class_id: str | None
    year_group: int
    left_on: date | None = None


CLASSES = {c.class_id: c for c in (Klass("5a", "north", "5A", 5, LAST), Klass("6a", "north", "6A", 6, LAST),
                                     Klass("1s", "south", "1S", 1, LAST), Klass("2t", "south", "2T", 2, LAST))}
PUPILS = {p.pupil_id: p for p in (Pupil("p1", "north", "5a", 5), Pupil("p2", "north", "5a", 5),
                                   Pupil("p3", "north", "6a", 6), Pupil("p4", "south", "1s", 1),
                                   Pupil("p5", "south", "2t", 2),
                                   Pupil("gone", "north", "5a", 5, left_on=date(2027, 3, 1)))}
ROSTER = RosterNow({"north", "south"}, CLASSES, PUPILS)
LEADER = caller("trust_leader")
NEW = [{"class_id": "6a-28", "school_id": "north", "name": "6A", "year_group": 6},
       {"class_id": "2s-28", "school_id": "south", "name": "2S", "year_group": 2}]


def request(**changes) -> RolloverRequest:
    base = {"from_year": LAST, "to_year": NEXT, "school_id": None,
            "classes": {"5a": "6a-28", "6a": None, "1s": "2s-28"}, "new_classes": NEW,
            "leavers": "top_year_group", "effective_on": TODAY}
    return RolloverRequest(**{**base, **changes})


def refusal(req: RolloverRequest, roster: RosterNow = ROSTER, who=LEADER) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as refused:
        plan_rollover(req, roster, who, TODAY)
    return refused.value.errors


def test_the_next_academic_year_follows_the_last():
    assert (next_academic_year("2026-27"), next_academic_year("2099-00"), next_academic_year("x")) == (
        "2027-28", "2100-01", None)


def test_pupils_move_up_a_year_group_the_top_year_leaves_and_last_years_classes_close():
    plan = plan_rollover(request(), ROSTER, LEADER, TODAY)
    assert [c["class_id"] for c in plan.classes_created] == ["6a-28", "2s-28"]
    assert all(c["academic_year"] == NEXT for c in plan.classes_created)
    assert plan.pupils_moved == [
        {"pupil_id": "p1", "school_id": "north", "from_class_id": "5a", "to_class_id": "6a-28",
         "from_year_group": 5, "to_year_group": 6},
        {"pupil_id": "p2", "school_id": "north", "from_class_id": "5a", "to_class_id": "6a-28",
         "from_year_group": 5, "to_year_group": 6},
        {"pupil_id": "p4", "school_id": "south", "from_class_id": "1s", "to_class_id": "2s-28",
         "from_year_group": 1, "to_year_group": 2}]
    assert plan.leavers == [{"pupil_id": "p3", "school_id": "north", "class_id": "6a", "year_group": 6},
                            {"pupil_id": "p5", "school_id": "south", "class_id": "2t", "year_group": 2}]
    assert [c["class_id"] for c in plan.classes_closed] == ["5a", "6a", "1s", "2t"]
    decision = plan.decision(dry_run=False)
    assert [e.event_type for e in decision.events] == [
        "ClassCreated", "ClassCreated", "PupilMoved", "PupilMoved", "PupilMoved", "PupilLeft", "PupilLeft",
        "ClassClosed", "ClassClosed", "ClassClosed", "ClassClosed"]
    moved = decision.events[2]
    assert (moved.stream_type, moved.stream_id, moved.data) == ("pupil", "p1", {
        "pupil_id": "p1", "class_id": "6a-28", "year_group": 6, "moved_on": TODAY.isoformat()})
    assert decision.events[-1].data == {"class_id": "2t", "closed_on": TODAY.isoformat()}
    assert decision.expected_versions == {("class", "6a-28"): 0, ("class", "2s-28"): 0}


def test_a_dry_run_reports_the_same_plan_and_appends_nothing():
    plan = plan_rollover(request(), ROSTER, LEADER, TODAY)
    dry, real = plan.decision(dry_run=True), plan.decision(dry_run=False)
    assert dry.events == [] and dry.status == 200 and real.status == 201
    assert {**dry.report, "dry_run": False} == real.report
    assert dry.report["counts"] == {"classes_created": 2, "pupils_moved": 3, "leavers": 2, "classes_closed": 4}


def test_a_pupil_not_mapped_is_refused_naming_their_class():
    errors = refusal(request(classes={"6a": None, "1s": "2s-28", "2t": None}))
    assert list(errors) == ["classes.5a"]
    assert "2 of its pupils are not leavers (p1, p2)" in errors["classes.5a"][0]


def test_a_class_mapped_to_nothing_must_have_only_leavers():
    errors = refusal(request(classes={"5a": None, "6a": None, "1s": "2s-28"}))
    assert "mapped to no class" in errors["classes.5a"][0]
    plan = plan_rollover(request(classes={"5a": None, "6a": None, "1s": "2s-28"}, leavers=["p1", "p2", "p3", "p5"]),
                         ROSTER, LEADER, TODAY)
    assert [p["pupil_id"] for p in plan.leavers] == ["p1", "p2", "p3", "p5"] and len(plan.pupils_moved) == 1


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"to_year": "2028-29"}, "to_year", "Expected 2027-28"),
    ({"effective_on": date(2027, 9, 3)}, "effective_on", "Must not be in the future."),
    ({"classes": {"5a": "nowhere", "6a": None, "1s": "2s-28"}}, "classes.5a", "Unknown class nowhere"),
    ({"classes": {"5a": "2s-28", "6a": None, "1s": "2s-28"}}, "classes.5a", "in another school"),
    ({"classes": {"5a": "6a", "6a": None, "1s": "2s-28"}}, "classes.5a", "not a class of 2027-28"),
    ({"classes": {"zz": None, "5a": "6a-28", "6a": None, "1s": "2s-28"}}, "classes.zz", "Unknown class."),
    ({"leavers": ["p3", "nobody"]}, "leavers.1", "Unknown pupil."),
    ({"new_classes": [{**NEW[0], "class_id": "5a"}, NEW[1]]}, "new_classes.0.class_id", "Already in use"),
    ({"new_classes": [{**NEW[0], "school_id": "east"}, NEW[1]]}, "new_classes.0.school_id", "Unknown school."),
    ({"from_year": "2020-21", "to_year": "2021-22", "classes": {}, "new_classes": []}, "from_year", "No classes"),
])
def test_each_problem_is_refused_by_its_field(changes, field, words):
    errors = refusal(request(**changes))
    assert field in errors and any(words in message for message in errors[field]), errors


def test_a_school_leader_rolls_over_their_school_only():
    north = caller("school_leader", schools=frozenset({"north"}))
    plan = plan_rollover(request(school_id="north", classes={"5a": "6a-28", "6a": None}, new_classes=NEW[:1]),
                         ROSTER, north, TODAY)
    assert {m["pupil_id"] for m in plan.pupils_moved} == {"p1", "p2"}
    assert [c["class_id"] for c in plan.classes_closed] == ["5a", "6a"]  # south's 1S untouched
    with pytest.raises(Forbidden) as whole_trust:
        plan_rollover(request(), ROSTER, north, TODAY)
    assert whole_trust.value.errors == {"school_id": ["Required."]}
    with pytest.raises(Forbidden):
        plan_rollover(request(school_id="south"), ROSTER, north, TODAY)
    errors = refusal(request(school_id="north", classes={"5a": "6a-28", "6a": None, "1s": "2s-28"},
                             new_classes=NEW[:1]), who=north)
    assert errors == {"classes.1s": ["Not a class of 2026-27 in this school."]}


@pytest.mark.parametrize("role", ["teacher", "auditor"])
def test_teachers_and_auditors_cannot_roll_over(role):
    with pytest.raises(Forbidden):
        plan_rollover(request(school_id="north"), ROSTER,
                      caller(role, schools=frozenset({"north"}), classes=frozenset({"5a"})), TODAY)


def test_running_it_again_changes_nothing_and_says_what_was_done_already():
    """After the first run: the classes of last year are closed, next year's exist, the leaver has left."""
    closed = {k: c._replace(closed_on=TODAY) for k, c in CLASSES.items()}
    created = {n["class_id"]: Klass(n["class_id"], n["school_id"], n["name"], n["year_group"], NEXT) for n in NEW}
    after = RosterNow({"north", "south"}, {**closed, **created},
                      {"p3": PUPILS["p3"]._replace(left_on=TODAY)})  # no pupil on roll in a closed class
    plan = plan_rollover(request(leavers=["p3"]), after, LEADER, TODAY)
    assert plan.changes == 0
    decision = plan.decision(dry_run=False)
    assert decision.events == [] and decision.status == 200
    assert decision.report["already_done"] == {"classes_created": ["6a-28", "2s-28"],
                                               "classes_closed": ["5a", "6a", "1s"], "leavers": ["p3"]}
    # (2T was not named in this request's classes: a closed class nobody maps is simply done.)


def test_from_next_years_roster_the_enrolled_move_the_rest_leave_and_last_years_classes_close():
    moves = {"p1": ("6a-28", 6), "p4": ("2s-28", 2)}
    enrolled = {"p1": ("6a-28", "enrollments.csv.2.classSourcedId"),
                "p4": ("2s-28", "enrollments.csv.3.classSourcedId")}
    plan = plan_after_roster(request(), ROSTER, moves, enrolled, LEADER, TODAY)
    assert [(m["pupil_id"], m["to_class_id"], m["to_year_group"]) for m in plan.pupils_moved] == [
        ("p1", "6a-28", 6), ("p4", "2s-28", 2)]
    assert [p["pupil_id"] for p in plan.leavers] == ["p2", "p3", "p5"]  # not in the files: they left
    assert [c["class_id"] for c in plan.classes_closed] == ["5a", "6a", "1s", "2t"]
    kept = {**enrolled, "p2": ("5a", "enrollments.csv.4.classSourcedId")}
    errors = refusal_of(lambda: plan_after_roster(request(), ROSTER, moves, kept, LEADER, TODAY))
    assert list(errors) == ["enrollments.csv.4.classSourcedId"]


def refusal_of(plan) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as refused:
        plan()
    return refused.value.errors
