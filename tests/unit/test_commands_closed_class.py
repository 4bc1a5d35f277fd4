"""A closed class (last year's, after a roll-over) refuses every write with a conflict naming the field."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

from fathom_api.commands.classes import decide_taught
from fathom_api.commands.pupils import decide_move, decide_registration
from fathom_api.commands.staff import decide_assignment
from fathom_api.refusals import Conflict
from fathom_api.validation import CLOSED
from tests.unit.command_fakes import caller

TODAY = date(2027, 9, 2)
LEADER = caller("trust_leader")


class Klass(NamedTuple):
    class_id: str
    school_id: str
    year_group: int
    closed_on: date | None


class Pupil(NamedTuple):
    pupil_id: str
    school_id: str
    class_id: str | None
    year_group: int
    left_on: date | None = None


CLOSED_4A, OPEN_5A = Klass("4A", "s", 4, date(2027, 9, 1)), Klass("5A", "s", 5, None)


def closed(write) -> dict[str, list[str]]:
    with pytest.raises(Conflict) as refused:
        write()
    return refused.value.errors


def test_nobody_is_moved_or_registered_into_a_closed_class():
    pupil = Pupil("p1", "s", "5A", 5)
    assert closed(lambda: decide_move("p1", {"class_id": "4A", "moved_on": TODAY}, pupil, LEADER.principal,
                                      CLOSED_4A, TODAY)) == {"class_id": [CLOSED]}
    registration = {"school_id": "s", "class_id": "4A", "year_group": None, "groups": {}, "enrolled_on": None}
    assert closed(lambda: decide_registration("p9", registration, True, CLOSED_4A, False, LEADER.principal,
                                              TODAY)) == {"class_id": [CLOSED]}
    assert decide_move("p1", {"class_id": None, "moved_on": TODAY}, Pupil("p1", "s", "4B", 4), LEADER.principal,
                       None, TODAY)  # out of a class is still a move


def test_nothing_is_taught_to_a_closed_class_and_its_staff_stay_as_they_were():
    taught = {"class_id": "4A", "objective_ids": ["m1"], "taught_on": TODAY}
    assert closed(lambda: decide_taught(taught, CLOSED_4A, LEADER, {"m1"}, TODAY)) == {"class_id": [CLOSED]}
    assert decide_taught({**taught, "class_id": "5A"}, OPEN_5A, LEADER, {"m1"}, TODAY)
    assert closed(lambda: decide_assignment("4A", "ms.new", CLOSED_4A, False, LEADER.principal,
                                            lambda sub: "ref")) == {"class_id": [CLOSED]}
