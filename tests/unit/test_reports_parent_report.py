"""The report for parents (pure): what counts as a strength or a next step at a point, and what a parent never sees."""

from __future__ import annotations

import uuid
from datetime import date

from fathom_reports.views.parent_report import ReportSnapshot, build_parent_report
from fathom_reports.views.profile import ClassSpell, JudgementRecord, ProfileSnapshot, PupilRecord, Taught
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Band, Objective, Scale
from fathom_shared.assessment_calendar import AssessmentPoint, default_points

SCALE = Scale("edsm", "Emerging to Mastery", (Band(1, "Emerging", False), Band(2, "Developing", False),
                                               Band(3, "Secure", True), Band(4, "Mastery", True)))
OBJECTIVES = tuple(Objective(oid, f"CODE-{oid}", subject, 4, strand, f"I can {oid}", "edsm")
                   for oid, subject, strand in (("add", "maths", "number"), ("halve", "maths", "fractions"),
                                                ("spell", "english", "spelling"), ("old", "maths", "number"),
                                                ("before", "maths", "number")))
AUTUMN_1, AUTUMN_2 = default_points("2026-27")[:2]  # to 31 October; to 31 December


def _judged(objective_id: str, value: int, day: date, sequence: int, *, status: str = "recorded",
            source: str = "teacher") -> JudgementRecord:
    return JudgementRecord(str(uuid.uuid4()), objective_id, source, value, value, status, None, day, None, None,
                           None, sequence)


def _report(history, taught, *, erased: bool = False, settings: TrustSettings | None = None,
            point=AUTUMN_1, comment: str | None = "Kind and curious.", summative: dict[str, str] | None = None):
    pupil = PupilRecord("p1", "Ada Lovelace", erased, "north", "4b", 4, {}, None)
    spells = (ClassSpell("4a", "4A", 4, date(2026, 9, 1), date(2026, 10, 15)),
              ClassSpell("4b", "4B", 4, date(2026, 10, 15), None))
    profile = ProfileSnapshot(pupil=pupil, sequence=9, class_history=spells, objectives=OBJECTIVES,
                              scales={"edsm": SCALE}, current=(), history=tuple(history), taught=tuple(taught),
                              scores=(), interventions=(), settings=settings or TrustSettings())
    return build_parent_report(ReportSnapshot(profile, "2026-27", default_points("2026-27"), "North School",
                                              comment, summative or {}), point)


def _texts(report, subject: str, part: str) -> list[str]:
    found = next((s for s in report["subjects"] if s["subject"] == subject), None)
    return [statement["text"] for statement in found[part]] if found else []


def test_secure_by_the_points_end_is_a_strength_and_taught_not_secure_a_next_step():
    report = _report([_judged("add", 3, date(2026, 10, 1), 1), _judged("halve", 2, date(2026, 10, 2), 2),
                      _judged("halve", 4, date(2026, 11, 2), 3)],
                     [Taught("4a", "add", date(2026, 9, 10)), Taught("4a", "halve", date(2026, 9, 11)),
                      Taught("4b", "spell", date(2026, 10, 20))])
    assert _texts(report, "maths", "strengths") == ["I can add"]
    assert _texts(report, "maths", "next_steps") == ["I can halve"]  # its mastery came in November
    assert _texts(report, "english", "next_steps") == ["I can spell"]  # taught, never judged
    assert report["pupil"]["class_name"] == "4B" and report["comment"] == "Kind and curious."


def test_teaching_before_the_pupil_joined_and_last_years_work_are_not_this_reports():
    report = _report([_judged("old", 4, date(2026, 7, 1), 1)],
                     [Taught("4b", "before", date(2026, 9, 20)),  # 4B before the pupil moved in
                      Taught("4a", "old", date(2026, 7, 1))])
    assert report["subjects"] == []


def test_withdrawn_and_other_sources_judgements_never_count():
    report = _report([_judged("add", 4, date(2026, 10, 1), 1, status="withdrawn"),
                      _judged("add", 4, date(2026, 10, 2), 2, source="self"),
                      _judged("add", 1, date(2026, 9, 20), 3)],
                     [Taught("4a", "add", date(2026, 9, 10))])
    assert _texts(report, "maths", "strengths") == []
    assert _texts(report, "maths", "next_steps") == ["I can add"]


def test_the_trusts_rollup_decides_secure():
    history = [_judged("add", 1, date(2026, 9, 20), 1), _judged("add", 4, date(2026, 10, 1), 2),
               _judged("add", 1, date(2026, 10, 20), 3)]
    assert _texts(_report(history, [], settings=TrustSettings(rollup_method="highest")), "maths", "strengths") == [
        "I can add"]
    assert _texts(_report(history, []), "maths", "strengths") == []  # latest: emerging


def test_no_codes_or_band_labels_reach_a_parent():
    report = _report([_judged("add", 4, date(2026, 10, 1), 1), _judged("halve", 1, date(2026, 10, 1), 2)], [])
    text = str(report)
    assert "CODE-" not in text
    assert not any(label in text for label in ("Emerging", "Developing", "Mastery", "Secure"))


def test_an_erased_pupil_has_no_name_and_no_comment():
    report = _report([], [], erased=True)
    assert report["pupil"]["name"] is None and report["comment"] is None


def test_the_class_is_the_one_the_pupil_was_in_at_the_points_end():
    report = _report([], [], point=AUTUMN_1)
    assert report["pupil"]["class_name"] == "4B"
    report = _report([], [], point=AssessmentPoint("early", "Early", date(2026, 9, 1), date(2026, 10, 1)))
    assert report["pupil"]["class_name"] == "4A"


def test_a_summative_code_is_said_in_the_scales_words_and_never_as_the_code():
    report = _report([_judged("add", 3, date(2026, 10, 1), 1)], [], summative={"Maths": "GDS", "music": "WTS"})
    assert [(s["subject"], s["summative"]) for s in report["subjects"]] == [
        ("maths", "Working at greater depth within the expected standard"),
        ("music", "Working towards the expected standard for the year")]
    assert "GDS" not in str(report) and "WTS" not in str(report)
