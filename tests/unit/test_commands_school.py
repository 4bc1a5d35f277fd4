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
