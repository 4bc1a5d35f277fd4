"""Who sees which schools and classes in ``/v1/directory`` (pure: the access rules applied to a listing)."""

from __future__ import annotations

from fathom_reports.views.directory import visible_directory
from fathom_shared.auth import Principal


def _class(class_id: str, school_id: str, year: int) -> dict:
    return {"class_id": class_id, "school_id": school_id, "name": class_id[-2:], "year_group": year,
            "academic_year": "2026-27", "pupils": 30}


SCHOOLS = [
    {"school_id": "a", "name": "Oak", "classes": [_class("a-4A", "a", 4), _class("a-5A", "a", 5)]},
    {"school_id": "b", "name": "Ash", "classes": [_class("b-4A", "b", 4)]},
]


def _who(*roles: str, schools: frozenset[str] = frozenset(), classes: frozenset[str] = frozenset()) -> Principal:
    return Principal("someone", "t", frozenset(roles), schools, classes)


def test_a_teacher_sees_only_their_class_and_not_its_school_analysis() -> None:
    view = visible_directory(_who("teacher", classes=frozenset({"a-5A"})), SCHOOLS)
    assert [(s["school_id"], s["readable"], [c["class_id"] for c in s["classes"]]) for s in view["schools"]] == [
        ("a", False, ["a-5A"])]
    assert view["trust_wide"] is False
    assert view["assesses"] is True and view["audit"] is False
    assert view["schools"][0]["year_groups"] == [5]
    assert view["schools"][0]["classes"][0]["sources"] == ["teacher", "self"]


def test_a_school_leader_sees_their_school_whole_and_nothing_else() -> None:
    view = visible_directory(_who("school_leader", schools=frozenset({"b"})), SCHOOLS)
    assert [(s["school_id"], s["readable"]) for s in view["schools"]] == [("b", True)]
    assert [c["class_id"] for c in view["schools"][0]["classes"]] == ["b-4A"]
    assert view["schools"][0]["classes"][0]["sources"] == ["teacher", "self", "moderator"]


def test_trust_wide_roles_see_everything() -> None:
    view = visible_directory(_who("auditor"), SCHOOLS)
    assert view["trust_wide"] is True
    assert view["assesses"] is False and view["audit"] is True
    assert [len(s["classes"]) for s in view["schools"]] == [2, 1]
    assert view["schools"][0]["year_groups"] == [4, 5]
    assert "school_id" not in view["schools"][0]["classes"][0]
    assert all(c["sources"] == [] for s in view["schools"] for c in s["classes"]), "auditors record nothing"


def test_only_those_who_change_trust_settings_are_offered_the_calendar_editor() -> None:
    offered = {role: visible_directory(_who(role, schools=frozenset({"a"})), SCHOOLS)["settings"]
               for role in ("teacher", "school_leader", "trust_leader", "auditor", "integration", "platform_admin")}
    assert offered == {"teacher": False, "school_leader": False, "trust_leader": True, "auditor": False,
                       "integration": False, "platform_admin": True}


def test_only_leaders_who_may_roll_over_are_offered_the_new_school_year() -> None:
    offered = {role: visible_directory(_who(role, schools=frozenset({"a"})), SCHOOLS)["rollover"]
               for role in ("teacher", "school_leader", "trust_leader", "auditor", "integration", "platform_admin")}
    assert offered == {"teacher": False, "school_leader": True, "trust_leader": True, "auditor": False,
                       "integration": True, "platform_admin": True}
    assert visible_directory(_who("school_leader"), SCHOOLS)["rollover"] is False  # a leader of no school


def test_a_closed_class_is_listed_as_closed_and_offers_no_entry() -> None:
    closed = {**_class("a-4A", "a", 4), "closed_on": "2027-09-01"}
    view = visible_directory(_who("trust_leader"), [{"school_id": "a", "name": "Oak", "classes": [
        closed, {**_class("a-5A", "a", 5), "academic_year": "2027-28", "closed_on": None}]}])
    [last, this] = view["schools"][0]["classes"]
    assert (last["closed_on"], last["sources"]) == ("2027-09-01", [])
    assert this["closed_on"] is None and this["sources"] == ["teacher", "self", "moderator"]
