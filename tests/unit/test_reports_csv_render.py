"""CSV rendering: header row, flat cells, formula-looking text neutralised, safe file names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fathom_reports.csv_export import _cell, counts_text, filename, render


def test_render_flattens_cells_and_neutralises_formulas():
    text = render(["a", "b", "c", "d", "e"], [
        {"a": "=SUM(A1)", "b": None, "c": True, "d": ["x", "y"], "e": -1},
        {"a": "plain, with comma", "b": 2.5, "c": False, "d": [], "e": "@home"},
    ])
    assert text.splitlines() == [
        "a,b,c,d,e",
        "'=SUM(A1),,true,x; y,-1",
        '"plain, with comma",2.5,false,,\'@home',
    ]


def test_counts_text_names_bands_or_their_values():
    assert counts_text([{"label": "Secure", "value": 3, "count": 2},
                        {"label": None, "value": 9, "count": 1}]) == "Secure 2; 9 1"


def test_filenames_are_header_safe():
    assert filename("class", "4a", "analysis", "objectives") == "class-4a-analysis-objectives.csv"
    assert filename("school", 'no"rth/x', "analysis", "year4", None, "custom:looked after") \
        == "school-no_rth_x-analysis-year4-custom_looked_after.csv"


def test_joined_list_cells_are_neutralised_too():
    """A list of user-made codes becomes one cell; before, the join skipped the formula guard."""
    text = render(["objective_codes"], [{"objective_codes": ["=HYPERLINK(\"http://x\")", "M1"]}])
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x\"\"); M1\""


@pytest.mark.parametrize("value", [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r@x", "\n=1", " =1+1", "  +cmd", "\t\t-2", " \r\n@x",
])
def test_every_formula_start_is_defused_even_after_whitespace(value):
    assert _cell(value) == "'" + value
    assert _cell([value, "x"]) == "'" + value + "; x"


@pytest.mark.parametrize("value, expected", [
    (-1, -1), (2.5, 2.5), (Decimal("-3.5"), Decimal("-3.5")), ("plain", "plain"), ("a=b", "a=b"), ("", ""),
    ([1, 2], "1; 2"),
])
def test_numbers_and_ordinary_text_are_left_alone(value, expected):
    assert _cell(value) == expected
