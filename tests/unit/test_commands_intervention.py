"""Intervention rules on in-memory state: the fold of its stream and the decisions (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_api.commands.interventions import Facts, decide_end, decide_pupils_change, evolve, fold
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_shared.intervention_membership import pupils_after_change
from tests.unit.command_fakes import PupilRow, caller, stored

START = date(2025, 9, 1)
TODAY = date(2025, 10, 1)
IN_4A = {p: PupilRow(p, "north", "4a") for p in ("a", "b", "c")}
OTHER_CLASS = PupilRow("z", "north", "4b")


def started(*pupils: str) -> list:
    return [stored("intervention", "i1", 1, "InterventionStarted", {
        "intervention_id": "i1", "name_ref": None, "lead_ref": None, "start_date": START,
        "pupil_ids": list(pupils), "objective_ids": ["o1"]})]


def changed(version: int, added: list[str], removed: list[str]):
    return stored("intervention", "i1", version, "InterventionPupilsChanged", {
        "intervention_id": "i1", "added": added, "removed": removed, "changed_on": START})


def facts(who=None, members=IN_4A, named=IN_4A) -> Facts:
    return Facts(who or caller("teacher", classes=frozenset({"4a"})), None, members, named, TODAY)


def test_the_fold_follows_the_stream_and_its_version():
    state = fold([*started("a", "b"), changed(2, ["c"], ["a"])])
    assert state is not None and state.pupil_ids == ("b", "c") and state.version == 2 and not state.ended
    ended = evolve(state, stored("intervention", "i1", 3, "InterventionEnded", {
        "intervention_id": "i1", "end_date": TODAY, "outcome_ref": None}))
    assert ended.ended and ended.version == 3


def test_a_pupil_added_twice_or_already_in_it_is_in_it_once():
    """The read models' rule: the write side's fold once appended the added pupils as they came."""
    state = fold([*started("a", "b"), changed(2, ["b", "c", "c"], [])])
    assert state.pupil_ids == ("a", "b", "c")
    assert pupils_after_change(["a", "b"], ["b", "c", "c"], ["a"]) == ["b", "c"]


def test_events_before_the_start_fold_to_nothing():
    assert fold([changed(1, ["a"], [])]) is None


def test_a_change_appends_one_event_with_each_pupil_once():
    state = fold(started("a", "b"))
    [event] = decide_pupils_change("i1", {"add": ["c", "c"], "remove": ["a"], "changed_on": TODAY}, state, facts())
    assert event.event_type == "InterventionPupilsChanged" and event.stream_id == "i1"
    assert event.data["added"] == ["c"] and event.data["removed"] == ["a"]


def test_every_problem_of_a_change_is_reported_at_once():
    state = fold(started("a", "b"))
    with pytest.raises(Invalid) as refused:
        decide_pupils_change("i1", {"add": ["a", "x"], "remove": ["c", "a"], "changed_on": date(2025, 8, 1)},
                             state, facts())
    assert refused.value.errors == {
        "add.0": ["Already in this intervention."], "add.1": ["Unknown pupil."],
        "remove.0": ["Not in this intervention."], "remove.1": ["Also in add."],
        "changed_on": ["Before the intervention started."]}


def test_nothing_to_change_and_a_future_date_are_refused():
    state = fold(started("a"))
    with pytest.raises(Invalid) as refused:
        decide_pupils_change("i1", {"add": [], "remove": [], "changed_on": date(2099, 1, 1)}, state, facts())
    assert refused.value.errors == {"add": ["Add or remove at least one pupil."],
                                    "changed_on": ["Must not be in the future."]}


def test_unknown_ended_and_not_yours_in_that_order():
    with pytest.raises(NotFound):
        decide_pupils_change("i1", {"add": ["c"], "remove": [], "changed_on": TODAY}, None, facts())
    ended = fold([*started("a"), stored("intervention", "i1", 2, "InterventionEnded", {
        "intervention_id": "i1", "end_date": TODAY, "outcome_ref": None})])
    with pytest.raises(Conflict):
        decide_end("i1", {"end_date": TODAY, "outcome": None}, ended, facts(), lambda text: text)
    mixed = {**IN_4A, "z": OTHER_CLASS}
    with pytest.raises(Forbidden):
        decide_end("i1", {"end_date": TODAY, "outcome": None}, fold(started("a", "z")), facts(members=mixed),
                   lambda text: text)
    with pytest.raises(Forbidden):
        decide_end("i1", {"end_date": TODAY, "outcome": None}, fold(started("a")), facts(who=caller("auditor")),
                   lambda text: text)


def test_the_lead_may_end_a_group_of_pupils_of_other_classes_and_the_outcome_is_kept_apart():
    lead = caller("teacher", sub="lead")
    kept: list[str | None] = []
    [event] = decide_end("i1", {"end_date": TODAY, "outcome": "went well"}, fold(started("z")),
                         Facts(lead, "lead", {"z": OTHER_CLASS}, {}, TODAY),
                         lambda text: kept.append(text) or "ref-1")
    assert kept == ["went well"] and event.data["outcome_ref"] == "ref-1"


def test_an_end_before_the_start_is_refused():
    with pytest.raises(Invalid) as refused:
        decide_end("i1", {"end_date": date(2025, 8, 31), "outcome": None}, fold(started("a")), facts(),
                   lambda text: text)
    assert refused.value.errors == {"end_date": ["Before the start date 2025-09-01."]}


def test_a_start_keeps_its_name_apart_and_names_the_lead_by_staff_ref():
    from fathom_api.commands.interventions import decide_start

    start = {"name": "Reading group", "lead": "ms-a", "start_date": START, "pupil_ids": ["a", "b", "a"],
             "objective_ids": ["o1", "o1"]}
    [event] = decide_start(start, "i9", facts(), {"o1"}, lambda name: f"text:{name}", lambda sub: f"ref:{sub}")
    assert event.event_type == "InterventionStarted" and event.stream_id == "i9"
    assert event.data["name_ref"] == "text:Reading group" and event.data["lead_ref"] == "ref:ms-a"
    assert event.data["pupil_ids"] == ["a", "b"] and event.data["objective_ids"] == ["o1"]
    with pytest.raises(Invalid) as refused:
        decide_start({**start, "pupil_ids": ["x"], "objective_ids": ["o2"]}, "i9", facts(), {"o1"},
                     lambda name: name, lambda sub: sub)
    assert refused.value.errors == {"pupil_ids.0": ["Unknown pupil."], "objective_ids.0": ["Unknown objective."]}
