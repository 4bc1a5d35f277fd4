"""Names are listed as a reader reads them, whatever the database's collation: pupils on a register, schools,
classes and trusts in lists."""

from __future__ import annotations

from fathom_reports.views.reading_order import by_name, name_key, register_order

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


def names_in_order(names: list[str | None]) -> list[str | None]:
    return [name for name, _ in sorted(((name, f"id-{n}") for n, name in enumerate(names)),
                                       key=lambda pair: by_name(*pair))]


def test_school_names_file_under_their_letter_whatever_the_case_or_accent():
    names = ["Zeal Academy", "abbey Primary", "École Saint-Jean", "Østergaard School", "Elm Primary"]
    assert names_in_order(names) == [
        "abbey Primary", "École Saint-Jean", "Elm Primary", "Østergaard School", "Zeal Academy"]


def test_numbers_in_names_are_compared_by_value():
    names = ["Class 10", "Class 9", "Year 4 Oak", "Class 1", "Year 10 Ash", "3B", "12A"]
    assert names_in_order(names) == ["3B", "12A", "Class 1", "Class 9", "Class 10", "Year 4 Oak", "Year 10 Ash"]


def test_names_that_differ_only_in_case_come_in_one_order_then_by_id():
    assert sorted([("4b", "c2"), ("4B", "c1"), ("4B", "c0")], key=lambda pair: by_name(*pair)) == [
        ("4B", "c0"), ("4B", "c1"), ("4b", "c2")]


def test_a_missing_name_sorts_first_as_an_empty_one_and_keys_compare_whatever_the_mix_of_digits():
    assert name_key(None) == name_key("") == ("",)
    names = ["9", "a9", "a", "a 9 b", "9a", "", "10", "09", "a10"]
    assert sorted(names, key=name_key) == ["", "9", "09", "9a", "10", "a", "a9", "a10", "a 9 b"]


def test_a_number_of_any_length_is_compared_by_value():
    long = "1" * 5000  # beyond the 4,300 digits int() takes from a string
    assert sorted([f"Room {long}0", f"Room {long}", "Room 2"], key=name_key) == [
        "Room 2", f"Room {long}", f"Room {long}0"]
