"""Class Analysis arithmetic on hand-made snapshots: exact counts, percentages and pupil lists."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from fathom_reports.views.class_analysis import GROUP_FILTERS, analyse_class, percent
from fathom_reports.views.pupil_groups import group_predicate, is_valid_group
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Band, ClassInfo, ClassSnapshot, Intervention, Judgement, Objective, Pupil, Scale
from fathom_shared.notifications import parse_notification

EDSM = Scale("edsm", "Emerging / Developing / Secure / Mastery", (
    Band(1, "Emerging", False), Band(2, "Developing", False), Band(3, "Secure", True), Band(4, "Mastery", True),
))
RAG = Scale("rag", "Red / Amber / Green", (Band(1, "Red", False), Band(2, "Amber", False), Band(3, "Green", True)))
KLASS = ClassInfo("c-4a", "4A", "s-north", 4, "2026-27")
PUPILS = (
    Pupil("p1", "Ada Lovelace", {"pupil_premium": True, "sen": "none", "eal": False, "gender": "female",
                                 "more_able": True}),
    Pupil("p2", "Ben Okri", {"pupil_premium": False, "sen": "support", "eal": True, "gender": "Male",
                             "more_able": False}),
    Pupil("p3", None, {"pupil_premium": True, "sen": "ehcp", "eal": False, "gender": "F", "more_able": False}),
    Pupil("p4", "Dev Patel", {"pupil_premium": False, "sen": "none", "eal": True, "gender": None,
                              "more_able": False}),
    Pupil("p5", "Eve Ng", {}),
)
MA1 = Objective("o-ma1", "MA4.1", "Maths", 4, "Number", "Count in multiples of 6, 7, 9, 25 and 1000", "edsm")
MA2 = Objective("o-ma2", "MA4.2", "Maths", 4, "Number", "Round to the nearest 10, 100 or 1000", "edsm")
EN1 = Objective("o-en1", "EN4.1", "English", 4, None, "Use the present perfect form of verbs", "rag")
DAY = date(2026, 10, 5)


def judged(pupil_id: str, objective: Objective, value: int, on: date = DAY) -> Judgement:
    return Judgement(pupil_id, objective.objective_id, value, on, "teacher")


def snapshot(**overrides) -> ClassSnapshot:
    fields = {
        "klass": KLASS, "sequence": 17, "pupils": PUPILS, "objectives": (MA2, EN1, MA1),
        "scales": {"edsm": EDSM, "rag": RAG},
        "judgements": (
            judged("p1", MA1, 4), judged("p2", MA1, 1), judged("p3", MA1, 3), judged("p4", MA1, 2),
            judged("p1", EN1, 3), judged("p2", EN1, 3),
        ),
        "taught": {"o-ma1": (date(2026, 10, 1), date(2026, 9, 15), date(2026, 10, 1))},
    }
    fields.update(overrides)
    return ClassSnapshot(**fields)


def by_id(view: dict) -> dict[str, dict]:
    return {objective["objective_id"]: objective for objective in view["objectives"]}


def test_band_counts_are_zero_filled_in_scale_order_and_secure_is_counted_over_assessed():
    ma1 = by_id(analyse_class(snapshot()))["o-ma1"]
    assert ma1["counts"] == [
        {"value": 1, "label": "Emerging", "secure": False, "count": 1},
        {"value": 2, "label": "Developing", "secure": False, "count": 1},
        {"value": 3, "label": "Secure", "secure": True, "count": 1},
        {"value": 4, "label": "Mastery", "secure": True, "count": 1},
    ]
    assert (ma1["assessed"], ma1["not_assessed"], ma1["secure"], ma1["percent_secure"]) == (4, 1, 2, 50.0)
    assert ma1["pupils_not_secure"] == ["p2", "p4"]
    assert ma1["pupils_not_assessed"] == ["p5"]


def test_unassessed_objective_has_null_percent_and_every_band_at_zero():
    ma2 = by_id(analyse_class(snapshot()))["o-ma2"]
    assert [band["count"] for band in ma2["counts"]] == [0, 0, 0, 0]
    assert (ma2["assessed"], ma2["not_assessed"], ma2["secure"], ma2["percent_secure"]) == (0, 5, 0, None)
    assert ma2["pupils_not_secure"] == []
    assert ma2["pupils_not_assessed"] == ["p1", "p2", "p3", "p4", "p5"]


def test_taught_and_assessed_are_separate_facts():
    view = by_id(analyse_class(snapshot()))
    assert view["o-ma1"]["taught_dates"] == ["2026-09-15", "2026-10-01"]
    assert view["o-ma1"]["taught"] is True
    assert (view["o-en1"]["taught"], view["o-en1"]["taught_dates"], view["o-en1"]["assessed"]) == (False, [], 2)
    assert (view["o-ma2"]["taught"], view["o-ma2"]["assessed"]) == (False, 0)


def test_percent_secure_rounds_to_one_decimal_place_halves_up():
    assert percent(2, 3) == 66.7
    assert percent(1, 3) == 33.3
    assert percent(1, 16) == 6.3  # 6.25: float round() would give 6.2
    assert percent(7, 7) == 100.0
    assert percent(0, 4) == 0.0
    assert percent(0, 0) is None


def test_percent_is_the_decimal_rounding_of_every_fraction_a_class_can_have():
    """Worked in whole numbers (cheaper than ``Decimal``): the same float as quantising the exact decimal to 0.1,
    halves up, for every count of every group up to 400 pupils."""
    for whole in range(1, 401):
        for part in range(whole + 1):
            exact = (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            assert percent(part, whole) == float(exact), (part, whole)


def test_objectives_are_ordered_by_subject_then_code_and_subject_filters_them():
    assert [o["code"] for o in analyse_class(snapshot())["objectives"]] == ["EN4.1", "MA4.1", "MA4.2"]
    maths = analyse_class(snapshot(), subject="Maths")
    assert [o["code"] for o in maths["objectives"]] == ["MA4.1", "MA4.2"]
    assert maths["filters"] == {"subject": "Maths", "group": None, "source": "teacher", "from": None, "to": None}
    assert all(set(row["cells"]) <= {"o-ma1", "o-ma2"} for row in maths["heat_map"])
    assert analyse_class(snapshot(), subject="Science")["objectives"] == []


GROUP_MEMBERS = {
    "pupil_premium": ["p1", "p3"],
    "not_pupil_premium": ["p2", "p4", "p5"],
    "sen": ["p2", "p3"],
    "sen_support": ["p2"],
    "sen_ehcp": ["p3"],
    "sen_none": ["p1", "p4", "p5"],
    "eal": ["p2", "p4"],
    "not_eal": ["p1", "p3", "p5"],
    "more_able": ["p1"],
    "female": ["p1", "p3"],
    "male": ["p2"],
}


@pytest.mark.parametrize(("group", "members"), GROUP_MEMBERS.items())
def test_group_filter_selects_pupils(group, members):
    view = analyse_class(snapshot(), group=group)
    assert [p["pupil_id"] for p in view["pupils"]] == members
    assert [row["pupil_id"] for row in view["heat_map"]] == members


def test_every_group_filter_is_tested():
    assert set(GROUP_MEMBERS) == set(GROUP_FILTERS)


def test_counts_cover_only_the_filtered_pupils():
    view = analyse_class(snapshot(), group="pupil_premium")  # p1 (Mastery), p3 (Secure)
    ma1 = by_id(view)["o-ma1"]
    assert [band["count"] for band in ma1["counts"]] == [0, 0, 1, 1]
    assert (ma1["assessed"], ma1["not_assessed"], ma1["secure"], ma1["percent_secure"]) == (2, 0, 2, 100.0)
    en1 = by_id(view)["o-en1"]  # p1 Green, p3 not assessed
    assert (en1["assessed"], en1["not_assessed"], en1["secure"], en1["percent_secure"]) == (1, 1, 1, 100.0)
    assert en1["pupils_not_assessed"] == ["p3"]

    sen = by_id(analyse_class(snapshot(), group="sen"))["o-ma1"]  # p2 Emerging, p3 Secure
    assert (sen["assessed"], sen["secure"], sen["percent_secure"], sen["pupils_not_secure"]) == (2, 1, 50.0, ["p2"])


def test_heat_map_cells_hold_the_latest_judgement_with_its_band():
    view = analyse_class(snapshot(judgements=(
        Judgement("p1", "o-ma1", 3, date(2026, 11, 2), "moderator"),)))
    rows = {row["pupil_id"]: row["cells"] for row in view["heat_map"]}
    assert rows["p1"] == {"o-ma1": {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-11-02",
                                    "source": "moderator"}}
    assert rows["p2"] == {}


def test_equal_values_on_different_scales_keep_their_own_labels():
    rows = {row["pupil_id"]: row["cells"] for row in analyse_class(snapshot())["heat_map"]}
    assert (rows["p3"]["o-ma1"]["label"], rows["p1"]["o-en1"]["label"]) == ("Secure", "Green")
    assert rows["p3"]["o-ma1"]["value"] == rows["p1"]["o-en1"]["value"] == 3


def test_a_value_the_scale_no_longer_defines_is_counted_unlabelled_and_not_secure():
    ma1 = by_id(analyse_class(snapshot(judgements=(judged("p1", MA1, 9), judged("p2", MA1, 3)))))["o-ma1"]
    assert ma1["counts"][-1] == {"value": 9, "label": None, "secure": False, "count": 1}
    assert sum(band["count"] for band in ma1["counts"]) == ma1["assessed"] == 2
    assert ma1["pupils_not_secure"] == ["p1"]


def test_interventions_name_only_the_shown_pupils():
    interventions = (
        Intervention("i-2", "Times tables", "Mr Hale", date(2026, 11, 1), ("p2", "x-other", "p1"), ("o-ma1",)),
        Intervention("i-1", "Phonics", "Ms Rae", date(2026, 10, 1), ("p4",), ("o-en1",)),
        Intervention("i-3", "Other class", "Ms Rae", date(2026, 9, 1), ("x-other",), ("o-en1",)),
    )
    view = analyse_class(snapshot(interventions=interventions))
    assert view["interventions"] == [
        {"intervention_id": "i-1", "name": "Phonics", "lead": "Ms Rae", "start_date": "2026-10-01",
         "pupil_ids": ["p4"], "objective_ids": ["o-en1"]},
        {"intervention_id": "i-2", "name": "Times tables", "lead": "Mr Hale", "start_date": "2026-11-01",
         "pupil_ids": ["p1", "p2"], "objective_ids": ["o-ma1"]},
    ]
    pp = analyse_class(snapshot(interventions=interventions), group="pupil_premium")
    assert [(i["intervention_id"], i["pupil_ids"]) for i in pp["interventions"]] == [("i-2", ["p1"])]


def test_class_pupils_and_sequence_are_reported():
    view = analyse_class(snapshot())
    assert view["class"] == {"id": "c-4a", "name": "4A", "school_id": "s-north", "year_group": 4,
                             "academic_year": "2026-27"}
    assert view["sequence"] == 17
    assert view["pupils"][2] == {"pupil_id": "p3", "name": None, "erased": False, "groups": PUPILS[2].groups}
    assert by_id(view)["o-ma1"]["scale"] == {
        "scale_id": "edsm", "name": EDSM.name,
        "bands": [{"value": b.value, "label": b.label, "secure": b.secure} for b in EDSM.bands]}


def test_missing_scale_still_reports_the_objective():
    ma1 = by_id(analyse_class(snapshot(scales={})))["o-ma1"]
    assert ma1["scale"] == {"scale_id": "edsm", "name": None, "bands": []}
    assert (ma1["assessed"], ma1["secure"], ma1["percent_secure"]) == (4, 0, 0.0)


def test_custom_groups_select_their_members_only():
    pupils = (Pupil("p1", "A", {"custom": ["looked after", "young carer"]}), Pupil("p2", "B", {"custom": []}),
              Pupil("p3", "C", {}), Pupil("p4", "D", {"custom": ["young carer"]}))
    view = analyse_class(snapshot(pupils=pupils), group="custom:young carer")
    assert [p["pupil_id"] for p in view["pupils"]] == ["p1", "p4"]
    assert by_id(view)["o-ma1"]["assessed"] == 2  # p1 (4) and p4 (2)
    assert view["filters"]["group"] == "custom:young carer"
    assert [p["pupil_id"] for p in analyse_class(snapshot(pupils=pupils), group="custom:service child")["pupils"]] \
        == []


@pytest.mark.parametrize(("group", "valid"), [
    ("pupil_premium", True), ("custom:looked after", True), ("custom:", False), ("custom:  ", False),
    ("left_handed", False), ("", False),
])
def test_group_names(group, valid):
    assert is_valid_group(group) is valid
    if valid:
        assert callable(group_predicate(group))
    else:
        with pytest.raises(KeyError):
            group_predicate(group)


def test_an_erased_pupil_is_counted_but_never_named():
    pupils = (*PUPILS[:2], Pupil("p3", "Still On Roster", PUPILS[2].groups, erased=True), *PUPILS[3:])
    view = analyse_class(snapshot(pupils=pupils))
    assert view["pupils"][2] == {"pupil_id": "p3", "name": None, "erased": True, "groups": PUPILS[2].groups}
    assert by_id(view)["o-ma1"]["assessed"] == 4


def test_small_group_marks_percentages_over_fewer_pupils_than_the_threshold():
    view = by_id(analyse_class(snapshot()))  # default threshold 5
    assert (view["o-ma1"]["assessed"], view["o-ma1"]["small_group"]) == (4, True)
    assert (view["o-ma2"]["assessed"], view["o-ma2"]["small_group"]) == (0, True)
    relaxed = by_id(analyse_class(snapshot(settings=TrustSettings(small_group_threshold=3))))
    assert (relaxed["o-ma1"]["small_group"], relaxed["o-en1"]["small_group"]) == (False, True)  # 4 and 2 assessed


def test_gaps_taught_not_assessed_and_below_target():
    view = analyse_class(snapshot(taught={"o-ma2": (date(2026, 9, 10),), "o-ma1": (DAY,)}))
    assert view["gaps"] == {
        "secure_target_percent": 70.0,
        "taught_not_assessed": [{"objective_id": "o-ma2", "code": "MA4.2", "subject": "Maths",
                                 "taught_dates": ["2026-09-10"]}],
        "below_target": [{"objective_id": "o-ma1", "code": "MA4.1", "subject": "Maths", "assessed": 4,
                          "secure": 2, "percent_secure": 50.0, "small_group": True}],
    }
    lenient = analyse_class(snapshot(settings=TrustSettings(secure_target_percent=50)))
    assert lenient["gaps"]["below_target"] == []  # 50% is not below a 50% target
    assert lenient["settings"]["secure_target_percent"] == 50


def test_suggested_groups_in_the_class_view():
    view = analyse_class(snapshot(judgements=(
        judged("p1", MA1, 1), judged("p2", MA1, 2), judged("p3", MA1, 1), judged("p4", MA1, 4),
        judged("p1", MA2, 2), judged("p2", MA2, 1), judged("p3", MA2, 3), judged("p5", MA2, 3),
    )))
    # MA4.1: p1 p2 p3 not secure (25%); MA4.2: p1 p2 (50%); overlap 2/3 ≥ 0.6 → one group, core p1 p2.
    assert view["suggested_groups"] == [{
        "size": 2,
        "objectives": [{"objective_id": "o-ma1", "code": "MA4.1", "subject": "Maths"},
                       {"objective_id": "o-ma2", "code": "MA4.2", "subject": "Maths"}],
        "pupil_ids": ["p1", "p2"],
        "also_consider": ["p3"],
        "start_intervention": {"pupil_ids": ["p1", "p2"], "objective_ids": ["o-ma1", "o-ma2"]},
    }]


@pytest.mark.parametrize(("payload", "parsed"), [
    ("trust-a:42", ("trust-a", 42)),
    ("trust-a:0", ("trust-a", 0)),
    ("trust-a", None),
    (":42", None),
    ("trust-a:-1", None),
    ("trust-a:4x", None),
])
def test_projection_notification_payloads(payload, parsed):
    assert parse_notification(payload) == parsed
