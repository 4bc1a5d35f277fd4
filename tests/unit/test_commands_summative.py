"""Summative scale and summative judgement rules on in-memory state (no database): the scale's checks, a grid
save's checks, a judgement's life folded and amended, and what the projector's fold makes of it all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from fathom_api.commands.summative import decide_grid, decide_scale
from fathom_api.commands.summative_amendments import CORRECTED, RECORDED, WITHDRAWN, Facts, decide_amendment, fold
from fathom_api.refusals import Conflict, Forbidden, Invalid, NotFound
from fathom_shared.assessment_calendar import default_points
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import CURRENT_VERSION, serialise, upcast
from fathom_shared.personal import TextBatch
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.tables import SUMMATIVE_JUDGEMENTS, SUMMATIVE_SCALE
from fathom_shared.summative_scale import (
    PRESETS,
    codes_a_change_drops,
    default_scale,
    scale_problems,
)
from tests.unit.command_fakes import PupilRow, caller, stored

LEADER = caller("trust_leader")
TEACHER = caller("teacher", classes=frozenset({"4a"}))
YEAR, POINT = "2026-27", "autumn-2"
POINTS = default_points(YEAR)


@dataclass(frozen=True)
class ClassRow:
    class_id: str
    school_id: str
    academic_year: str = YEAR
    closed_on: date | None = None


CLASS = ClassRow("4a", "north")
PUPILS = {"p1": PupilRow("p1", "north", "4a"), "p2": PupilRow("p2", "north", "4a"),
          "p3": PupilRow("p3", "north", "4b"), "gone": PupilRow("gone", "north", "4a", left_on=date(2026, 10, 1))}


def test_the_presets_are_scales_and_the_default_is_working_towards_expected_greater_depth():
    assert all(scale_problems(preset) == {} for preset in PRESETS.values())
    default = default_scale()
    assert [c["code"] for c in default["codes"]] == ["WTS", "EXS", "GDS"] and default["expected_rank"] == 2
    at = PRESETS["below-just-below-at-above"]
    assert [c["code"] for c in at["codes"] if c["rank"] >= at["expected_rank"]] == ["AT", "ABV"]


@pytest.mark.parametrize(("change", "field"), [
    ({"codes": [{"code": "A", "label": "a", "words": "a", "rank": 1}]}, "codes"),
    ({"expected_rank": 7}, "expected_rank"),
    ({"codes": [{"code": "EXS", "label": "a", "words": "a", "rank": 1},
                {"code": "exs", "label": "b", "words": "b", "rank": 2}], "expected_rank": 1}, "codes.1.code"),
    ({"codes": [{"code": "A", "label": "a", "words": "a", "rank": 1},
                {"code": "B", "label": "b", "words": "b", "rank": 1}], "expected_rank": 1}, "codes.1.rank"),
    ({"codes": [{"code": "A B", "label": "a", "words": "a", "rank": 1},
                {"code": "B", "label": "b", "words": "b", "rank": 2}], "expected_rank": 1}, "codes.0.code"),
])
def test_what_is_not_a_scale_is_named_by_field(change, field):
    assert field in scale_problems({**default_scale(), **change})


def test_a_change_drops_removed_renamed_and_reranked_codes_but_not_new_words():
    old = default_scale()
    reworded = {**old, "codes": [{**c, "label": c["label"] + "!", "words": "new"} for c in old["codes"]]}
    assert codes_a_change_drops(old, reworded) == []
    reranked = {**old, "codes": [{**c, "rank": c["rank"] * 10} if c["code"] == "GDS" else c for c in old["codes"]]}
    assert codes_a_change_drops(old, reranked) == ["GDS"]
    assert codes_a_change_drops(old, PRESETS["below-just-below-at-above"]) == ["WTS", "EXS", "GDS"]


def test_only_trust_leaders_choose_the_scale_and_a_code_in_use_must_stay():
    with pytest.raises(Forbidden):
        decide_scale(PRESETS["below-just-below-at-above"], default_scale(), set(), TEACHER.principal)
    with pytest.raises(Conflict) as refused:
        decide_scale(PRESETS["below-just-below-at-above"], default_scale(), {"EXS"}, LEADER.principal)
    assert refused.value.errors == {
        "codes": ["EXS is in use: keep its code and rank (its label and words may change)."]}
    [event] = decide_scale(PRESETS["below-just-below-at-above"], default_scale(), set(), LEADER.principal)
    assert (event.stream_type, event.stream_id) == ("summative_scale", "trust")
    assert event.event_type == "SummativeScaleChosen"
    assert event.data["expected_rank"] == 3


def test_a_scale_with_problems_is_refused_before_the_codes_in_use_are_weighed():
    with pytest.raises(Invalid) as refused:
        decide_scale({**default_scale(), "expected_rank": 9}, default_scale(), set(), LEADER.principal)
    assert "expected_rank" in refused.value.errors


def grid(*entries, point_id=POINT, subject="Maths", year=YEAR):
    return {"academic_year": year, "point_id": point_id, "subject": subject,
            "entries": [dict(zip(("pupil_id", "code", "note"), entry, strict=False)) for entry in entries]}


def save(payload, who=TEACHER, klass=CLASS, texts=None, scale=None):
    return decide_grid("4a", klass, payload, who, PUPILS, scale or default_scale(), POINTS, texts or TextBatch())


def test_a_grid_records_one_judgement_per_pupil_on_their_stream_with_the_note_kept_apart():
    texts = TextBatch()
    events = save(grid(("p1", "exs", "Strong reasoning"), ("p2", "WTS")), texts=texts)
    assert [(e.stream_type, e.stream_id, e.event_type) for e in events] == [
        ("summative", "p1", RECORDED), ("summative", "p2", RECORDED)]
    first = events[0].data
    assert (first["code"], first["class_id"], first["subject"], first["point_id"]) == ("EXS", "4a", "Maths", POINT)
    assert first["judgement_id"] == str(events[0].event_id)
    assert first["note_ref"] == str(texts.rows[0]["text_id"]) and texts.rows[0]["pupil_id"] == "p1"
    assert events[1].data["note_ref"] is None
    assert "Strong reasoning" not in str([e.data for e in events])


def test_every_problem_of_a_grid_is_named_by_field():
    with pytest.raises(Invalid) as refused:
        save(grid(("p1", "XYZ"), ("p3", "EXS"), ("gone", "EXS"), ("p1", "GDS"), ("nobody", "EXS"),
                  point_id="autumn-9"))
    errors = refused.value.errors
    assert errors["point_id"] == [
        "Not an assessment point of 2026-27 (points: autumn-1, autumn-2, spring-1, spring-2, summer-1, summer-2)."]
    assert errors["entries.0.code"] == ["Not a code of the trust's summative scale (codes: WTS, EXS, GDS)."]
    assert errors["entries.1.pupil_id"] == ["Not a pupil of this class."]
    assert errors["entries.2.pupil_id"] == ["Pupil has left."]
    assert errors["entries.3.pupil_id"] == ["This pupil is in the grid twice."]
    assert errors["entries.4.pupil_id"] == ["Not a pupil of this class."]


def test_a_point_of_a_year_after_the_classs_is_refused_naming_academic_year():
    """A class of 2026-27 has no codes at 2027-28's points (by then it is last year's class); last year's are a
    baseline it may enter."""
    with pytest.raises(Invalid) as refused:
        save(grid(("p1", "EXS"), year="2027-28"))
    assert refused.value.errors == {"academic_year": [
        "The class is of 2026-27: its codes are given at that year's points (or an earlier year's, as a baseline), "
        "not 2027-28's."]}
    [event] = save(grid(("p1", "EXS"), year="2025-26", point_id="summer-2"))
    assert (event.data["academic_year"], event.data["point_id"]) == ("2025-26", "summer-2")


def test_a_closed_class_takes_no_codes_a_conflict_naming_the_class():
    """Last year's class after a roll-over is read-only: 409, as for every other write to it (its pupils have
    moved on, so each entry would otherwise be refused one by one as not of the class)."""
    with pytest.raises(Conflict) as refused:
        save(grid(("p1", "EXS")), klass=ClassRow("4a", "north", closed_on=date(2027, 8, 31)))
    assert list(refused.value.errors) == ["class_id"]


def test_teachers_save_for_their_own_classes_and_leaders_for_their_school():
    with pytest.raises(NotFound):
        save(grid(("p1", "EXS")), klass=None)
    with pytest.raises(Forbidden):
        save(grid(("p1", "EXS")), who=caller("teacher", classes=frozenset({"4b"})))
    with pytest.raises(Forbidden):
        save(grid(("p1", "EXS")), who=caller("auditor"))
    with pytest.raises(Forbidden):
        save(grid(("p1", "EXS")), who=caller("school_leader", schools=frozenset({"south"})))
    assert save(grid(("p1", "EXS")), who=caller("school_leader", schools=frozenset({"north"})))


JUDGEMENT = uuid.uuid4()
CELL = {"pupil_id": "p1", "subject": "Maths", "academic_year": YEAR, "point_id": POINT}


def recorded(code="EXS", judgement_id=JUDGEMENT, version=1, **cell):
    return stored("summative", "p1", version, RECORDED, {
        "judgement_id": str(judgement_id), **CELL, **cell, "class_id": "4a", "code": code, "note_ref": None},
        event_id=judgement_id)


def amended(event_type, version, judgement_id=JUDGEMENT, **extra):
    return stored("summative", "p1", version, event_type,
                  {"judgement_id": str(judgement_id), **CELL, "reason_ref": None, **extra})


def life(*events):
    return fold(((e, upcast(e.event_type, e.schema_version, e.data)) for e in events), str(JUDGEMENT))


def test_a_judgements_life_sees_corrections_withdrawals_and_a_later_judgement_of_its_cell():
    assert life(recorded(), amended(CORRECTED, 2, code="GDS", note_ref=None)).code == "GDS"
    assert life(recorded(), amended(WITHDRAWN, 2)).withdrawn
    assert life(recorded(), recorded("GDS", uuid.uuid4(), 2)).replaced
    other_subject = recorded("GDS", uuid.uuid4(), 2, subject="Reading")
    assert not life(recorded(), other_subject).replaced
    assert life(other_subject) is None


def amend(event_type, payload, state, who=TEACHER, pupil=PUPILS["p1"], recorded_in=CLASS):
    return decide_amendment(str(JUDGEMENT), event_type, payload, state,
                            Facts(who, pupil, default_scale(), recorded_in),
                            lambda text, pupil_id: None if text is None else f"ref:{text}:{pupil_id}")


def test_a_correction_names_the_cell_and_keeps_reason_and_note_apart():
    [event] = amend(CORRECTED, {"code": "gds", "reason": "moderated", "note": "n"}, life(recorded()))
    assert (event.stream_type, event.stream_id, event.event_type) == ("summative", "p1", CORRECTED)
    assert {k: event.data[k] for k in ("code", "subject", "point_id", "reason_ref", "note_ref")} == {
        "code": "GDS", "subject": "Maths", "point_id": POINT, "reason_ref": "ref:moderated:p1", "note_ref": "ref:n:p1"}


def test_what_cannot_be_amended():
    with pytest.raises(NotFound):
        amend(WITHDRAWN, {"reason": "r"}, None)
    with pytest.raises(Invalid) as refused:
        amend(CORRECTED, {"code": "ZZZ", "reason": "r"}, life(recorded()))
    assert list(refused.value.errors) == ["code"]
    with pytest.raises(Conflict):
        amend(WITHDRAWN, {"reason": "r"}, life(recorded(), amended(WITHDRAWN, 2)))
    with pytest.raises(Conflict):
        amend(CORRECTED, {"code": "WTS", "reason": "r"}, life(recorded(), recorded("GDS", uuid.uuid4(), 2)))
    with pytest.raises(Forbidden):
        amend(WITHDRAWN, {"reason": "r"}, life(recorded()), who=caller("teacher", classes=frozenset({"4b"})))
    with pytest.raises(Forbidden):
        amend(WITHDRAWN, {"reason": "r"}, life(recorded()), who=caller("auditor"))


def test_a_code_given_in_a_closed_class_stays_as_it_was():
    """After a roll-over last year's class is read-only: its codes are neither corrected nor withdrawn (409 naming
    the judgement), as its objective judgements are not."""
    closed = ClassRow("4a", "north", closed_on=date(2027, 8, 31))
    for event_type, payload in ((CORRECTED, {"code": "GDS", "reason": "r"}), (WITHDRAWN, {"reason": "r"})):
        with pytest.raises(Conflict) as refused:
            amend(event_type, payload, life(recorded()), who=LEADER, recorded_in=closed)
        assert list(refused.value.errors) == ["judgement_id"]


def as_stored(sequence: int, event) -> StoredEvent:
    """A command's new event as the store gives it back (its data as written), at ``sequence``."""
    return StoredEvent("t", sequence, event.event_id, event.stream_type, event.stream_id, sequence, event.event_type,
                       CURRENT_VERSION[event.event_type], event.data, {"actor_ref": None},
                       datetime(2026, 12, 1, tzinfo=UTC), b"", b"")


def rows(*events):
    projection = project(parse_batch([as_stored(n, e) for n, e in enumerate(events, 1)]))
    return projection, {tuple(r[k] for k in SUMMATIVE_JUDGEMENTS.key): r
                        for r in projection.table_rows(SUMMATIVE_JUDGEMENTS)}


def test_the_read_model_keeps_one_current_judgement_per_cell_ranked_by_the_scale():
    first = save(grid(("p1", "WTS")))[0]
    later = save(grid(("p1", "GDS")))[0]
    _, cells = rows(first, later)
    [row] = cells.values()
    assert (row["code"], row["rank"], row["judgement_id"]) == ("GDS", 3, later.event_id)
    wider = {**default_scale(), "codes": [*default_scale()["codes"], {"code": "X", "label": "x", "words": "x",
                                                                      "rank": 9}]}
    chosen = decide_scale(wider, default_scale(), set(), LEADER.principal)[0]
    projection, cells = rows(chosen, save(grid(("p1", "x")), scale=wider)[0])
    assert [r["rank"] for r in cells.values()] == [9]
    assert projection.table_rows(SUMMATIVE_SCALE)[0]["codes"][-1]["code"] == "X"


def correction(of, code: str):
    return stored("summative", "p1", 9, CORRECTED, {"judgement_id": str(of.event_id), **CELL, "code": code,
                                                      "note_ref": None, "reason_ref": None})


def withdrawal(of):
    return stored("summative", "p1", 9, WITHDRAWN, {"judgement_id": str(of.event_id), **CELL, "reason_ref": None})


def test_a_correction_changes_the_code_a_withdrawal_removes_the_row_and_a_replaced_judgement_changes_nothing():
    first, later = save(grid(("p1", "WTS")))[0], save(grid(("p1", "EXS")))[0]
    _, cells = rows(first, correction(first, "GDS"))
    assert [(r["code"], r["rank"]) for r in cells.values()] == [("GDS", 3)]
    projection, cells = rows(first, withdrawal(first))
    assert cells == {} and projection.table_removals(SUMMATIVE_JUDGEMENTS) == [tuple(CELL.values())]
    _, cells = rows(first, later, correction(first, "GDS"), withdrawal(first))
    assert [r["code"] for r in cells.values()] == ["EXS"]
    _, cells = rows(first, withdrawal(first), later)
    assert [r["code"] for r in cells.values()] == ["EXS"]


def test_the_events_are_built_exactly_as_their_schemas_store_them():
    for event in [*save(grid(("p1", "EXS", "note"))), correction(recorded(), "GDS"), withdrawal(recorded())]:
        assert serialise(event.event_type, dict(event.data)) == event.data
