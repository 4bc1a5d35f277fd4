"""Objective retirement on in-memory state (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_api.commands.objectives import decide_retirement
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_shared.auth import Principal

TODAY = date(2025, 10, 1)
LEADER = Principal(sub="head", trust_id="t", roles=frozenset({"trust_leader"}))


def test_retired_once_by_a_framework_writer_not_in_the_future():
    [event] = decide_retirement("o1", {"retired_on": TODAY}, False, LEADER, TODAY)
    assert (event.event_type, event.data) == ("ObjectiveRetired", {"objective_id": "o1", "retired_on": "2025-10-01"})
    with pytest.raises(Conflict):
        decide_retirement("o1", {"retired_on": TODAY}, True, LEADER, TODAY)
    with pytest.raises(NotFound):
        decide_retirement("o1", {"retired_on": TODAY}, None, LEADER, TODAY)
    with pytest.raises(Invalid) as refused:
        decide_retirement("o1", {"retired_on": date(2025, 10, 2)}, False, LEADER, TODAY)
    assert refused.value.errors == {"retired_on": ["Must not be in the future."]}
    teacher = Principal(sub="t", trust_id="t", roles=frozenset({"teacher"}))
    with pytest.raises(Forbidden):
        decide_retirement("o1", {"retired_on": TODAY}, None, teacher, TODAY)
