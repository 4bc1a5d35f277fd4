"""Readers' column lists come from the read-model table specs: a view's value type picks, the spec vouches."""

from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple

import pytest

from fathom_reports.changes.store import MODELS
from fathom_reports.loading import class_analysis
from fathom_reports.loading.class_analysis import CLASS_COLUMNS, JUDGEMENT_COLUMNS, OBJECTIVE_COLUMNS
from fathom_reports.loading.columns import field_names, select_for
from fathom_reports.views.trust_settings import TrustSettings
from fathom_shared.read_models.tables import CLASSES, DEFAULT_SETTINGS, SCHOOLS, TRUST_SETTINGS, Table

RM_THINGS = Table("rm_things", ("thing_id",), ("thing_id", "name", "name_ref", "size"))


class Thing(NamedTuple):
    size: int
    thing_id: str


def test_a_select_list_is_every_column_in_spec_order_by_default() -> None:
    assert SCHOOLS.select_list() == "school_id, name"
    assert CLASSES.select_list(alias="c") == ("c.class_id, c.school_id, c.name, c.year_group, c.academic_year, "
                                              "c.closed_on")


def test_a_chosen_select_list_keeps_the_callers_order() -> None:
    assert CLASSES.select_list(("class_id", "name", "school_id")) == "class_id, name, school_id"


def test_a_column_the_spec_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="rm_classes has no column teacher"):
        CLASSES.select_list(("class_id", "teacher"))


def test_a_value_type_picks_the_columns_in_its_field_order() -> None:
    assert field_names(Thing) == ("size", "thing_id")
    assert select_for(RM_THINGS, Thing, alias="t") == "t.size, t.thing_id"


def test_a_resolved_field_is_read_through_its_expression() -> None:
    class Named(NamedTuple):
        thing_id: str
        name: str

    assert select_for(RM_THINGS, Named, resolved={"name": "coalesce(name_ref, name) AS name"}) == (
        "thing_id, coalesce(name_ref, name) AS name")


def test_a_value_type_with_a_field_the_table_lacks_is_refused() -> None:
    class Stray(NamedTuple):
        thing_id: str
        colour: str

    with pytest.raises(ValueError, match="colour"):
        select_for(RM_THINGS, Stray)


def test_the_reports_lists_read_as_before() -> None:
    assert CLASS_COLUMNS == "class_id, name, school_id, year_group, academic_year"
    assert JUDGEMENT_COLUMNS == "pupil_id, objective_id, value, assessed_on, source"
    assert OBJECTIVE_COLUMNS == "objective_id, code, subject, year_group, strand, text, scale_id, retired"
    assert class_analysis._PUPIL_COLUMNS == "p.pupil_id, p.groups, p.erased, p.school_id, p.class_id, p.left_on"


def test_trust_settings_default_to_the_tables_defaults() -> None:
    defaults = TrustSettings()
    assert tuple(field.name for field in fields(TrustSettings)) == TRUST_SETTINGS.columns
    assert {column: getattr(defaults, column) for column in TRUST_SETTINGS.columns} == DEFAULT_SETTINGS
    assert isinstance(defaults.secure_target_percent, float)


def test_the_change_feed_lists_models_in_the_documented_order() -> None:
    assert MODELS == ("schools", "classes", "pupils", "pupil_classes", "scales", "objectives", "judgements",
                      "pupil_objective", "class_taught", "interventions", "scores", "trust_settings",
                      "assessment_calendars", "meeting_decisions", "summative_scale", "summative_judgements",
                      "parent_report_comments")
