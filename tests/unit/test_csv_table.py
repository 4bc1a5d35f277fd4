"""The CSV reading every import shares: header checks, line numbers as an editor shows them, quoting, BOM."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from marshmallow import Schema, fields

from fathom_api.http import upload_text, uploaded_files
from fathom_api.imports.csv_table import (
    MAX_FILE_BYTES,
    CsvRow,
    RowErrors,
    load_row,
    parse_csv,
    report,
)
from fathom_api.refusals import InvalidFile
from fathom_shared.web.problems import Problem


def parsed(text: str, required=("a", "b"), optional=("c",), **kwargs):
    errors = RowErrors()
    table = parse_csv(text, "f.csv", required, optional, errors, **kwargs)
    return table, errors.by_field


def test_rows_by_column_with_lines_counted_from_the_header():
    table, errors = parsed("a,b,c\n1,2,3\n4,5,\n")
    assert errors == {}
    assert table.columns == ["a", "b", "c"]
    assert table.rows == [CsvRow(2, {"a": "1", "b": "2", "c": "3"}), CsvRow(3, {"a": "4", "b": "5", "c": ""})]


def test_blank_lines_are_skipped_but_keep_their_numbers():
    table, errors = parsed("a,b\n\n1,2\n  ,  \n\n3,4\n\n")
    assert errors == {}
    assert [(r.line, r.values["a"]) for r in table.rows] == [(3, "1"), (6, "3")]


def test_a_quoted_cell_over_two_lines_starts_its_row_and_shifts_the_next():
    table, _ = parsed('a,b\n"first\nsecond",x\n3,4\n')
    assert [(r.line, r.values["a"]) for r in table.rows] == [(2, "first\nsecond"), (4, "3")]


def test_quoting_commas_doubled_quotes_and_surrounding_spaces():
    table, _ = parsed('a,b\n"Infer feelings, thoughts","She said ""yes"""\n  padded  ,"  kept inside  "\n')
    assert table.rows[0].values == {"a": "Infer feelings, thoughts", "b": 'She said "yes"'}
    assert table.rows[1].values == {"a": "padded", "b": "kept inside"}


def test_crlf_line_endings_number_the_same():
    table, _ = parsed("a,b\r\n1,2\r\n\r\n3,4\r\n")
    assert [r.line for r in table.rows] == [2, 4]


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("", {}, {"f.csv.1": ["The file is empty: it needs a header row."]}),
        ("a\n1\n", {}, {"f.csv.1.b": ["Missing column."]}),
        ("a,b,colour\n", {}, {"f.csv.1.colour": ["Unknown column."]}),
        ("a,b,colour\n", {"extra_columns": True}, {}),
        ("a,b,a\n", {}, {"f.csv.1": ["A column name appears twice."]}),
        (" a , b \n", {}, {}),
    ],
)
def test_header_problems_are_line_1(text, kwargs, expected):
    assert parsed(text, **kwargs)[1] == expected


def test_a_row_with_too_many_fields_is_an_error_of_its_line_and_a_short_row_lacks_the_rest():
    table, errors = parsed("a,b\n1,2,3\n4\n")
    assert errors == {"f.csv.2": ["Has 3 fields; the header has 2."]}
    assert table.rows == [CsvRow(3, {"a": "4"})]


def test_more_rows_than_the_limit_is_413_blank_lines_do_not_count():
    assert len(parsed("a,b\n1,2\n\n\n3,4\n", max_rows=2)[0].rows) == 2
    with pytest.raises(Problem) as exc:
        parsed("a,b\n1,2\n3,4\n5,6\n", max_rows=2)
    assert exc.value.status == 413 and "f.csv" in exc.value.detail


class Item(Schema):
    a = fields.Integer(required=True)
    b = fields.String(load_default="default")


def test_load_row_treats_blank_cells_as_absent_and_keys_errors_by_line_and_column():
    errors = RowErrors()
    assert load_row(Item(), CsvRow(2, {"a": "1", "b": "", "c": "ignored"}), "rows", errors) == {
        "a": 1, "b": "default"}
    assert load_row(Item(), CsvRow(7, {"a": "x"}), "rows", errors) is None
    assert load_row(Item(), CsvRow(8, {"b": "y"}), "rows", errors) is None
    assert errors.by_field == {"rows.7.a": ["Not a valid integer."], "rows.8.a": ["Missing data for required field."]}


def test_row_errors_raise_one_422_with_every_key():
    errors = RowErrors()
    errors.raise_any()
    errors.add("users.csv", 7, "identifier", "Not a valid UPN.")
    errors.add("users.csv", 1, None, "Bad header.")
    errors.add("users.csv", 7, "identifier", "Again.")
    with pytest.raises(InvalidFile) as exc:
        errors.raise_any()
    assert exc.value.errors == {"users.csv.7.identifier": ["Not a valid UPN.", "Again."],
                                "users.csv.1": ["Bad header."]}


def test_report_shape():
    assert report(True, pupils={"created": 1}) == {"dry_run": True, "counts": {"pupils": {"created": 1}}}


app = Flask(__name__)


def test_a_byte_order_mark_is_not_part_of_the_first_column():
    with app.test_request_context(data=b"\xef\xbb\xbfa,b\n1,2\n", content_type="text/csv"):
        table, errors = parsed(upload_text())
    assert errors == {} and table.columns == ["a", "b"]


def test_multipart_files_by_field_or_filename_with_bom_and_missing_ones_named():
    data = {"orgs": (io.BytesIO(b"\xef\xbb\xbfx\n"), "orgs.csv"), "users.csv": (io.BytesIO(b"y\n"), "u.csv")}
    with app.test_request_context(data=data, content_type="multipart/form-data"):
        assert uploaded_files(["orgs.csv", "users.csv"]) == {"orgs.csv": "x\n", "users.csv": "y\n"}
        with pytest.raises(Problem) as exc:
            uploaded_files(["orgs.csv", "classes.csv"])
    assert exc.value.status == 422 and exc.value.errors == {"classes.csv": ["Missing file."]}


@pytest.mark.parametrize(("body", "status", "key"), [
    (b"\xff\xfe\x00", 422, "file"),
    (b"a" * (MAX_FILE_BYTES + 1), 413, None),
])
def test_not_utf8_is_422_and_an_oversized_file_413(body, status, key):
    with app.test_request_context(data=body, content_type="text/csv"), pytest.raises(Problem) as exc:
        upload_text()
    assert exc.value.status == status and (key is None or key in exc.value.errors)


def test_other_media_types_are_415():
    with app.test_request_context(json={"a": 1}), pytest.raises(Problem) as exc:
        upload_text()
    assert exc.value.status == 415
