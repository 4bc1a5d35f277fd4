"""The ``history`` benchmark's generated log: judgements as the command API writes them, amendments that name them."""

from __future__ import annotations

from tests.bench.history import HistorySizes, HistoryStats, history
from tests.bench.trust import TrustRoster

SIZES = HistorySizes(schools=2, pupils_per_class=4, objectives_per_subject=3, rounds=2,
                     correction_rate=0.2, withdrawal_rate=0.1)


def _roster() -> TrustRoster:
    roster = TrustRoster("t", schools=["s01", "s02"])
    roster.objectives = {year: [f"y{year}-o{n}" for n in range(6)] for year in range(1, 7)}
    for school in roster.schools:
        for year in range(1, 7):
            for class_letter in "ab":
                for n in range(SIZES.pupils_per_class):
                    roster.pupils[f"{school}-y{year}{class_letter}-p{n}"] = (year, f"{school}-y{year}{class_letter}")
    return roster


def test_the_judgements_ids_are_made_as_the_command_api_makes_them_time_ordered() -> None:
    """Version 7, as ``NewEvent`` and the API's batches make them: a log of random (version 4) ids puts every
    judgement's key on a random page of the read models' indexes, which the product's own logs never do."""
    events = list(history(_roster(), SIZES, HistoryStats()))
    judged = [e for e in events if e.event_type == "JudgementRecorded"]
    assert len(judged) == SIZES.rounds * 2 * 6 * 2 * SIZES.pupils_per_class * 6
    assert {e.event_id.version for e in judged} == {7}


def test_every_amendment_names_a_judgement_recorded_before_it() -> None:
    events = list(history(_roster(), SIZES, HistoryStats()))
    seen: dict[str, tuple[str, str]] = {}
    amendments = 0
    for event in events:
        if event.event_type == "JudgementRecorded":
            seen[str(event.event_id)] = (event.data["pupil_id"], event.data["objective_id"])
        elif event.event_type in ("JudgementCorrected", "JudgementWithdrawn"):
            amendments += 1
            assert seen[event.data["judgement_id"]] == (event.data["pupil_id"], event.data["objective_id"])
    assert amendments > 0
