"""CSV rendering: header row, flat cells, formula-looking text neutralised, safe file names."""

from __future__ import annotations

from fathom_reports.csv_export import counts_text, filename, render


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
