"""Pupil-stream rules on in-memory roster rows: moves, leaving, groups, erasure (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest

from fathom_api.commands.pupils import decide_erasure, decide_groups, decide_leaving, decide_move
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_shared.auth import Principal

TODAY = date(2025, 10, 1)
LEADER = Principal(sub="head", trust_id="t", roles=frozenset({"school_leader"}), schools=frozenset({"north"}))


@dataclass(frozen=True)
class Pupil:
    pupil_id: str = "p1"
    school_id: str = "north"
    class_id: str | None = "4a"
    year_group: int = 4
    groups: dict[str, Any] = field(default_factory=dict)
    left_on: date | None = None
    erased: bool = False


@dataclass(frozen=True)
class Class:
    school_id: str
    year_group: int


def test_a_move_takes_the_new_class_year_group():
    [event] = decide_move("p1", {"class_id": "5a", "moved_on": TODAY}, Pupil(), LEADER, Class("north", 5), TODAY)
    assert event.event_type == "PupilMoved" and event.data["class_id"] == "5a" and event.data["year_group"] == 5


def test_a_move_out_of_any_class_keeps_the_year_group():
    [event] = decide_move("p1", {"class_id": None, "moved_on": TODAY}, Pupil(), LEADER, None, TODAY)
    assert event.data["class_id"] is None and event.data["year_group"] == 4


def test_every_problem_of_a_move_at_once():
    with pytest.raises(Invalid) as refused:
        decide_move("p1", {"class_id": "4a", "moved_on": date(2099, 1, 1)}, Pupil(), LEADER,
                    Class("south", 4), TODAY)
    assert refused.value.errors == {"class_id": ["Class is in another school.", "The pupil is already in this class."],
                                    "moved_on": ["Must not be in the future."]}
    with pytest.raises(Invalid) as refused:
        decide_move("p1", {"class_id": "zz", "moved_on": TODAY}, Pupil(), LEADER, None, TODAY)
    assert refused.value.errors == {"class_id": ["Unknown class."]}


def test_unknown_not_yours_and_leavers():
    with pytest.raises(NotFound):
        decide_move("p1", {"class_id": None, "moved_on": TODAY}, None, LEADER, None, TODAY)
    with pytest.raises(Forbidden):
        decide_move("p1", {"class_id": None, "moved_on": TODAY}, Pupil(school_id="south"), LEADER, None, TODAY)
    with pytest.raises(Invalid) as refused:
        decide_move("p1", {"class_id": None, "moved_on": TODAY}, Pupil(left_on=TODAY), LEADER, None, TODAY)
    assert refused.value.errors == {"pupil_id": ["Pupil has left."]}


def test_leaving_once_and_not_in_the_future():
    [event] = decide_leaving("p1", {"left_on": TODAY}, Pupil(), LEADER, TODAY)
    assert event.event_type == "PupilLeft"
    with pytest.raises(Conflict) as refused:
        decide_leaving("p1", {"left_on": TODAY}, Pupil(left_on=date(2025, 7, 20)), LEADER, TODAY)
    assert refused.value.detail == "The pupil already left on 2025-07-20."
    with pytest.raises(Invalid):
        decide_leaving("p1", {"left_on": date(2025, 10, 2)}, Pupil(), LEADER, TODAY)


def test_the_same_groups_append_nothing():
    pupil = Pupil()
    [event] = decide_groups("p1", {"groups": {"pupil_premium": True}}, pupil, LEADER)
    assert event.event_type == "PupilGroupsChanged"
    same = replace(pupil, groups=event.data["groups"])
    assert decide_groups("p1", {"groups": {"pupil_premium": True}}, same, LEADER) == []


def test_erasure_once():
    [event] = decide_erasure("p1", Pupil(), LEADER)
    assert event.event_type == "PupilErased" and event.data == {"pupil_id": "p1"}
    with pytest.raises(Conflict):
        decide_erasure("p1", Pupil(erased=True), LEADER)


REGISTRATION = {"school_id": "north", "class_id": "4a", "year_group": None, "groups": {}}


def test_a_registration_takes_its_year_group_from_the_class_unless_given():
    from fathom_api.commands.pupils import decide_registration

    data = decide_registration("p9", REGISTRATION, True, Class("north", 4), False, LEADER, TODAY)
    assert data == {"pupil_id": "p9", "school_id": "north", "class_id": "4a", "year_group": 4, "groups": {},
                    "enrolled_on": TODAY}
    assert decide_registration("p9", {**REGISTRATION, "year_group": 5}, True, Class("north", 4), False,
                               LEADER, TODAY)["year_group"] == 5


def test_registration_refusals_in_order():
    from fathom_api.commands.pupils import decide_registration

    with pytest.raises(Invalid) as refused:
        decide_registration("p9", REGISTRATION, False, None, False, LEADER, TODAY)
    assert refused.value.errors == {"school_id": ["Unknown school."]}
    with pytest.raises(Forbidden):
        decide_registration("p9", {**REGISTRATION, "school_id": "south"}, True, None, False, LEADER, TODAY)
    with pytest.raises(Invalid) as refused:
        decide_registration("p9", REGISTRATION, True, None, False, LEADER, TODAY)
    assert refused.value.errors == {"class_id": ["Unknown class."]}
    with pytest.raises(Invalid) as refused:
        decide_registration("p9", REGISTRATION, True, Class("south", 4), False, LEADER, TODAY)
    assert refused.value.errors == {"class_id": ["Class is in another school."]}
    with pytest.raises(Invalid) as refused:
        decide_registration("p9", {**REGISTRATION, "class_id": None}, True, None, False, LEADER, TODAY)
    assert refused.value.errors == {"year_group": ["Required when there is no class."]}
    with pytest.raises(Conflict):
        decide_registration("p9", REGISTRATION, True, Class("north", 4), True, LEADER, TODAY)


def test_a_registration_takes_effect_on_the_day_given_never_in_the_future():
    from fathom_api.commands.pupils import decide_registration

    start_of_term = date(2025, 9, 3)
    data = decide_registration("p9", {**REGISTRATION, "enrolled_on": start_of_term}, True, Class("north", 4), False,
                               LEADER, TODAY)
    assert data["enrolled_on"] == start_of_term
    with pytest.raises(Invalid) as refused:
        decide_registration("p9", {**REGISTRATION, "enrolled_on": date(2025, 10, 2)}, True, Class("north", 4), False,
                            LEADER, TODAY)
    assert refused.value.errors == {"enrolled_on": ["Must not be in the future."]}
