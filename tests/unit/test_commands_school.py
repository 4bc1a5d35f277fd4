"""School and class creation rules on in-memory facts (no database)."""

from __future__ import annotations

import pytest

from fathom_api.commands.classes import decide_class
from fathom_api.commands.schools import decide_school
from fathom_api.refusals import Conflict, Forbidden, Invalid
from fathom_shared.auth import Principal

TRUST_LEADER = Principal(sub="head", trust_id="t", roles=frozenset({"trust_leader"}))
SCHOOL_LEADER = Principal(sub="sl", trust_id="t", roles=frozenset({"school_leader"}), schools=frozenset({"north"}))
CLASS = {"school_id": "north", "name": "4A", "year_group": 4, "academic_year": "2025-26"}


def test_only_trust_wide_writers_create_schools_under_a_free_id():
    assert decide_school("s1", {"name": "North"}, False, TRUST_LEADER) == {"school_id": "s1", "name": "North"}
    with pytest.raises(Conflict) as refused:
        decide_school("s1", {"name": "North"}, True, TRUST_LEADER)
    assert refused.value.errors == {"id": ["Already in use."]}
    with pytest.raises(Forbidden):
        decide_school("s1", {"name": "North"}, False, SCHOOL_LEADER)


def test_a_class_in_a_known_school_of_the_callers():
    assert decide_class("4a", CLASS, True, False, SCHOOL_LEADER) == {"class_id": "4a", **CLASS}
    with pytest.raises(Invalid) as refused:
        decide_class("4a", CLASS, False, False, SCHOOL_LEADER)
    assert refused.value.errors == {"school_id": ["Unknown school."]}
    with pytest.raises(Forbidden):
        decide_class("5s", {**CLASS, "school_id": "south"}, True, False, SCHOOL_LEADER)
    with pytest.raises(Conflict):
        decide_class("4a", CLASS, True, True, SCHOOL_LEADER)


def test_objectives_taught_to_a_class_of_the_callers_each_once():
    from dataclasses import dataclass
    from datetime import date

    from fathom_api.commands.classes import decide_taught
    from tests.unit.command_fakes import caller

    @dataclass(frozen=True)
    class Row:
        class_id: str
        school_id: str

    teacher = caller("teacher", classes=frozenset({"4a"}))
    taught = {"class_id": "4a", "objective_ids": ["o1", "o1", "o2"], "taught_on": date(2025, 9, 1)}
    events = decide_taught(taught, Row("4a", "north"), teacher, {"o1", "o2"}, date(2025, 10, 1))
    assert [e.data["objective_id"] for e in events] == ["o1", "o2"]
    with pytest.raises(Invalid) as refused:
        decide_taught({**taught, "class_id": "zz"}, None, teacher, {"o1"}, date(2025, 10, 1))
    assert refused.value.errors == {"class_id": ["Unknown class."], "objective_ids.2": ["Unknown objective."]}
    with pytest.raises(Forbidden):
        decide_taught(taught, Row("4b", "north"), teacher, {"o1", "o2"}, date(2025, 10, 1))
