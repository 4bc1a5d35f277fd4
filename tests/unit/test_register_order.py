"""Pupils are listed as a register reads, whatever the database's collation."""

from __future__ import annotations

from fathom_reports.loading.class_analysis import register_order

ROSTER = [  # (pupil id, family name, given name, erased)
    ("p1", "Zimmer", "Ann", False), ("p2", "de Souza", "Rui", False), ("p3", "Çelik", "Ece", False),
    ("p4", "adams", "Bo", False), ("p5", "Ábel", "Zoe", False), ("p6", None, None, False),
    ("p7", "Aaron", "Amy", True), ("p8", "Celik", "Ada", False), ("p9", "ADAMS", "Al", False),
]


def listed(roster: list[tuple[str, str | None, str | None, bool]]) -> list[str]:
    return [pupil_id for pupil_id, *_ in
            sorted(roster, key=lambda p: register_order(p[3], p[1], p[2], p[0]))]


def test_case_and_accents_do_not_move_a_name_out_of_its_letter():
    assert listed(ROSTER) == ["p5", "p9", "p4", "p8", "p3", "p2", "p1", "p6", "p7"]


def test_letters_unicode_does_not_decompose_still_file_under_their_base_letter():
    roster = [("z", "Zielinski", "Ola", False), ("l", "Łukasik", "Jan", False), ("o", "Østby", "Liv", False),
              ("m", "Moore", "Kit", False)]
    assert listed(roster) == ["l", "m", "o", "z"]


def test_an_empty_name_is_a_missing_one():
    roster = [("blank", "", "", False), ("named", "Young", "Ty", False), ("none", None, None, False)]
    assert listed(roster) == ["named", "blank", "none"]


def test_an_erased_pupils_old_name_does_not_place_it():
    erased = [("e2", "Aaron", "Amy", True), ("e1", "Zed", "Zak", True)]
    assert listed(erased) == ["e1", "e2"]


def test_the_same_name_twice_is_ordered_by_spelling_then_id():
    twins = [("b", "Smith", "Jo", False), ("a", "Smith", "Jo", False), ("c", "smith", "Jo", False)]
    assert listed(twins) == ["a", "b", "c"]
