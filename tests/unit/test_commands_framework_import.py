"""The framework import's plan on in-memory rows and objectives (no database, no request)."""

from __future__ import annotations

import pytest

from fathom_api.imports.csv_table import RowErrors
from fathom_api.imports.framework import decide_framework_import, framework_rows
from fathom_api.refusals import Forbidden, InvalidFile
from fathom_shared.auth import Principal

HEADER = "id,code,subject,year_group,strand,text,weight,scale_id\n"
FILE = HEADER + "m4-1,Y4-M1,maths,4,number,Count in 6s,,esdm\n,Y4 M2,maths,4,number,Round,2.5,esdm\n"
LEADER = Principal(sub="lead", trust_id="t", roles=frozenset({"trust_leader"}))
STORED = {"m4-1": {"code": "Y4-M1", "subject": "maths", "year_group": 4, "strand": "number", "text": "Count in 6s",
                   "weight": None, "scale_id": "esdm"}}


def plan(text: str, existing=None, scales=("esdm",), caller=LEADER, dry_run=False):
    errors = RowErrors()
    loaded = framework_rows(text, errors)
    return decide_framework_import(loaded, existing or {}, set(scales), caller, dry_run, errors)


def test_new_objectives_are_defined_and_an_id_is_derived_from_the_code():
    decision = plan(FILE)
    assert [(e.event_type, e.stream_id) for e in decision.events] == [
        ("ObjectiveDefined", "m4-1"), ("ObjectiveDefined", "Y4-M2")]
    assert decision.report == {"dry_run": False, "counts": {"objectives": {"created": 2, "unchanged": 0}}}
    assert decision.expected_versions == {("objective", "m4-1"): 0, ("objective", "Y4-M2"): 0}


def test_an_identical_objective_is_unchanged_and_a_dry_run_reports_the_same_counts():
    real, dry = plan(FILE, STORED), plan(FILE, STORED, dry_run=True)
    assert [e.stream_id for e in real.events] == ["Y4-M2"]
    assert dry.events == [] and dry.status == 200
    assert dry.report["counts"] == real.report["counts"] == {"objectives": {"created": 1, "unchanged": 1}}


def test_an_unchanged_file_plans_nothing():
    stored = {**STORED, "Y4-M2": {"code": "Y4 M2", "subject": "maths", "year_group": 4, "strand": "number",
                                  "text": "Round", "weight": 2.5, "scale_id": "esdm"}}
    decision = plan(FILE, stored)
    assert decision.events == [] and decision.report["counts"]["objectives"] == {"created": 0, "unchanged": 2}


def test_a_changed_objective_and_an_unknown_scale_are_row_errors_with_the_files_own():
    text = FILE.replace("Count in 6s", "Count in 7s").replace("2.5,esdm", "2.5,nope") + "x,X,maths,four,,T,,esdm\n"
    with pytest.raises(InvalidFile) as refused:
        plan(text, STORED)
    assert set(refused.value.errors) == {"rows.2.id", "rows.3.scale_id", "rows.4.year_group"}
    assert "text" in refused.value.errors["rows.2.id"][0]


def test_only_framework_writers_import_before_any_row_is_judged():
    teacher = Principal(sub="t1", trust_id="t", roles=frozenset({"school_leader"}), schools=frozenset({"north"}))
    with pytest.raises(Forbidden):
        plan(HEADER + "x,X,maths,four,,T,,esdm\n", caller=teacher)
