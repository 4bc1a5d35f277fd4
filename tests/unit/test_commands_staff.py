"""Staff assignment rules on in-memory state (no database)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fathom_api.commands.staff import decide_assignment, decide_unassignment
from fathom_api.refusals import Forbidden, NotFound
from fathom_shared.auth import Principal

LEADER = Principal(sub="head", trust_id="t", roles=frozenset({"school_leader"}), schools=frozenset({"north"}))


@dataclass(frozen=True)
class Class:
    school_id: str = "north"


def refs(sub: str) -> str:
    return f"ref-of-{sub}"


def test_assigning_names_the_person_by_staff_ref_and_twice_appends_nothing():
    [event] = decide_assignment("4a", "ms-a", Class(), False, LEADER, refs)
    assert (event.stream_type, event.stream_id, event.event_type) == ("class_staff", "4a", "StaffAssigned")
    assert event.data == {"class_id": "4a", "staff_ref": "ref-of-ms-a"}
    assert decide_assignment("4a", "ms-a", Class(), True, LEADER, refs) == []


def test_unassigning_someone_not_assigned_is_404_and_other_schools_are_403():
    [event] = decide_unassignment("4a", "ms-a", Class(), True, LEADER, refs)
    assert event.event_type == "StaffUnassigned"
    with pytest.raises(NotFound) as refused:
        decide_unassignment("4a", "ms-a", Class(), False, LEADER, refs)
    assert refused.value.detail == "ms-a is not assigned to 4a."
    with pytest.raises(NotFound):
        decide_assignment("zz", "ms-a", None, False, LEADER, refs)
    with pytest.raises(Forbidden):
        decide_assignment("5s", "ms-a", Class("south"), False, LEADER, refs)
