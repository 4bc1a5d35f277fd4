"""Impact arithmetic: before/after windows, running interventions, moved to secure."""

from __future__ import annotations

from datetime import date

from fathom_reports.views.impact import Evidence, ImpactSnapshot, before_and_after, build_impact
from fathom_reports.views.values import Band, Intervention, Objective, Pupil, Scale

START = date(2026, 11, 1)
YN = Scale("yn", "Yes / no", (Band(0, "Not yet", False), Band(1, "Yes", True)))


def ev(value: int, on: date, sequence: int = 1, pupil: str = "p1") -> Evidence:
    return Evidence(pupil, "o1", value, on, sequence)


def test_before_is_strictly_before_the_start_and_after_is_up_to_the_end_inclusive():
    items = [ev(1, date(2026, 10, 31)), ev(0, START, 5), ev(1, date(2026, 12, 1)), ev(0, date(2026, 12, 2))]
    before, after = before_and_after(items, START, date(2026, 12, 1))
    assert (before.value, before.assessed_on, after.value, after.assessed_on) == (1, date(2026, 10, 31), 1,
                                                                                  date(2026, 12, 1))


def test_same_day_judgements_are_ordered_by_recording():
    before, after = before_and_after([ev(1, START, 9), ev(0, START, 3)], START, START)
    assert (before, after.value) == (None, 1)


def test_a_running_intervention_counts_evidence_up_to_today():
    snapshot = ImpactSnapshot(
        intervention=Intervention("i", "I", "lead", START, ("p1",), ("o1",)), sequence=1,
        pupils=(Pupil("p1", "A", {}),), objectives=(Objective("o1", "O1", "Maths", 4, None, "t", "yn"),),
        scales={"yn": YN}, evidence=(ev(0, date(2026, 10, 1)), ev(1, date(2026, 11, 10)), ev(0, date(2026, 11, 30))))
    on_20th = build_impact(snapshot, today=date(2026, 11, 20))
    assert on_20th["intervention"]["evidence_until"] == "2026-11-20"
    row = on_20th["rows"][0]
    assert (row["change"], row["moved_to_secure"], row["after"]["label"]) == (1, True, "Yes")
    later = build_impact(snapshot, today=date(2026, 12, 1))["rows"][0]
    assert (later["change"], later["moved_to_secure"]) == (0, False)


def test_each_objective_carries_its_scale_and_each_pupil_their_class_so_a_client_can_show_and_link_them():
    snapshot = ImpactSnapshot(
        intervention=Intervention("i", "I", "lead", START, ("p1",), ("o1",)), sequence=1,
        pupils=(Pupil("p1", "A", {}, school_id="s", class_id="4a"),),
        objectives=(Objective("o1", "O1", "Maths", 4, None, "t", "yn"),),
        scales={"yn": YN}, evidence=())
    view = build_impact(snapshot, today=START)
    assert view["pupils"][0]["class_id"] == "4a"
    objective = view["objectives"][0]
    assert objective["scale"] == {"scale_id": "yn", "name": "Yes / no", "bands": [
        {"value": 0, "label": "Not yet", "secure": False}, {"value": 1, "label": "Yes", "secure": True}]}


def test_a_pupil_who_joined_later_is_measured_from_the_day_they_joined():
    """Before, every pupil was measured from the start date: a pupil added a month in had as "before" a
    judgement made while they were already in the group, and an "after" from before they joined."""
    joined = date(2026, 12, 1)
    snapshot = ImpactSnapshot(
        intervention=Intervention("i", "I", "lead", START, ("p1", "p2"), ("o1",), pupil_joined_on={"p2": joined}),
        sequence=1, pupils=(Pupil("p1", "A", {}), Pupil("p2", "B", {})),
        objectives=(Objective("o1", "O1", "Maths", 4, None, "t", "yn"),), scales={"yn": YN},
        evidence=(ev(0, date(2026, 10, 1), 1, "p1"), ev(1, date(2026, 11, 20), 2, "p1"),
                  ev(0, date(2026, 10, 1), 3, "p2"), ev(0, date(2026, 11, 20), 4, "p2"),
                  ev(1, date(2026, 12, 10), 5, "p2")))
    view = build_impact(snapshot, today=date(2026, 12, 15))
    assert [(p["pupil_id"], p["joined_on"]) for p in view["pupils"]] == [("p1", "2026-11-01"), ("p2", "2026-12-01")]
    rows = {r["pupil_id"]: r for r in view["rows"]}
    assert (rows["p1"]["before"]["assessed_on"], rows["p1"]["after"]["assessed_on"]) == ("2026-10-01", "2026-11-20")
    assert (rows["p2"]["before"]["assessed_on"], rows["p2"]["after"]["assessed_on"]) == ("2026-11-20", "2026-12-10")
    assert (rows["p2"]["change"], rows["p2"]["moved_to_secure"]) == (1, True)
