"""Scale rules on in-memory state: definitions, presets, new versions (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fathom_api.commands.scales import decide_adoption, decide_definition, decide_new_version
from fathom_api.refusals import Conflict, Forbidden, NotFound
from fathom_shared.auth import Principal

LEADER = Principal(sub="head", trust_id="t", roles=frozenset({"trust_leader"}))
BANDS = [{"value": 1, "label": "No", "secure": False}, {"value": 2, "label": "Yes", "secure": True}]


@dataclass(frozen=True)
class Scale:
    scale_id: str
    name: str
    bands: Any
    version: int
    previous_version: str | None


TRUST = {"s": Scale("s", "Depth", BANDS, 1, None), "s-v2": Scale("s-v2", "Depth", BANDS, 2, "s")}


def test_a_definition_under_a_free_id_only_by_a_framework_writer():
    [event] = decide_definition("new", {"name": "Yes/No", "bands": BANDS}, set(), LEADER)
    assert event.event_type == "ScaleDefined" and event.data["version"] == 1 and event.data["previous_version"] is None
    with pytest.raises(Conflict) as refused:
        decide_definition("s", {"name": "Again", "bands": BANDS}, {"s"}, LEADER)
    assert refused.value.errors == {"id": ["Already in use."]}
    with pytest.raises(Forbidden):
        decide_definition("new", {"name": "x", "bands": BANDS}, set(), Principal("t", "t", frozenset({"teacher"})))


def test_a_preset_is_adopted_by_name():
    [event] = decide_adoption("yes-no", "yes-no", set(), LEADER)
    assert event.data["scale_id"] == "yes-no" and [b["value"] for b in event.data["bands"]] == [0, 1]
    with pytest.raises(NotFound):
        decide_adoption("x", "no-such-preset", set(), LEADER)


def test_a_new_version_is_named_after_the_first_and_supersedes_only_the_newest():
    [event] = decide_new_version("s-v2", {"bands": BANDS}, TRUST, LEADER)
    assert (event.data["scale_id"], event.data["version"], event.data["previous_version"], event.data["name"]) == (
        "s-v3", 3, "s-v2", "Depth")
    with pytest.raises(Conflict) as refused:
        decide_new_version("s", {"bands": BANDS}, TRUST, LEADER)
    assert refused.value.detail == "Scale s was already superseded by s-v2."
    with pytest.raises(NotFound):
        decide_new_version("nope", {"bands": BANDS}, TRUST, LEADER)
