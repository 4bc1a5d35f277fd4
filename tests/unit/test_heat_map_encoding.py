"""The compact heat-map encoding on hand-made classes: every cell of the full form comes back from the compact
one, each distinct cell is listed once, and the rest of the view is the same in both."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from marshmallow import RAISE, ValidationError

from fathom_reports.schemas.class_analysis import ClassAnalysisSchema
from fathom_reports.views.class_analysis import analyse_class
from fathom_reports.views.heat_map import expand_heat_map
from fathom_reports.views.values import Judgement, Pupil, Scale
from tests.unit.test_reports_analysis import EDSM, EN1, MA1, MA2, PUPILS, judged, snapshot

SECURE = {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-10-05", "source": "teacher"}
UNKNOWN = {"value": 9, "label": None, "secure": False, "assessed_on": "2026-10-05", "source": "teacher"}
MODERATED = {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-11-02", "source": "moderator"}
ERASED = Pupil("p6", None, {"pupil_premium": False}, erased=True)


def objective_ids(view: dict) -> list[str]:
    return [objective["objective_id"] for objective in view["objectives"]]


def both(snapshot_, **filters) -> tuple[dict, dict]:
    return analyse_class(snapshot_, **filters), analyse_class(snapshot_, heat_map="compact", **filters)


def test_a_compact_heat_map_expands_to_cells_keyed_by_objective_in_objective_order():
    compact = {"cells": [SECURE, UNKNOWN, MODERATED],
               "rows": [{"pupil_id": "p1", "cells": [0, 0, 1]},
                        {"pupil_id": "p2", "cells": [None, None, None]},
                        {"pupil_id": "p3", "cells": [None, 2, 1]}]}
    full = expand_heat_map(compact, ["o-a", "o-b", "o-c"])
    assert full == [{"pupil_id": "p1", "cells": {"o-a": SECURE, "o-b": SECURE, "o-c": UNKNOWN}},
                    {"pupil_id": "p2", "cells": {}},
                    {"pupil_id": "p3", "cells": {"o-b": MODERATED, "o-c": UNKNOWN}}]
    assert list(full[2]["cells"]) == ["o-b", "o-c"]
    with pytest.raises(ValueError):  # a row not aligned with the objectives is refused, not misread
        expand_heat_map({"cells": [SECURE], "rows": [{"pupil_id": "p1", "cells": [0]}]}, ["o-a", "o-b"])


def test_the_compact_view_lists_each_distinct_cell_once_and_points_at_it_per_objective():
    full, compact = both(snapshot(judgements=(
        judged("p1", MA1, 3), judged("p2", MA1, 3), judged("p2", EN1, 3),
        Judgement("p3", "o-ma1", 3, date(2026, 11, 2), "moderator"))))
    assert objective_ids(compact) == ["o-en1", "o-ma1", "o-ma2"]  # English first, then Maths by code
    assert compact["heat_map"] == {
        "cells": [{"value": 3, "label": "Green", "secure": True, "assessed_on": "2026-10-05", "source": "teacher"},
                  SECURE, MODERATED],
        "rows": [{"pupil_id": "p1", "cells": [None, 1, None]},
                 {"pupil_id": "p2", "cells": [0, 1, None]},
                 {"pupil_id": "p3", "cells": [None, 2, None]},
                 {"pupil_id": "p4", "cells": [None, None, None]},
                 {"pupil_id": "p5", "cells": [None, None, None]}]}
    assert {key: value for key, value in compact.items() if key != "heat_map"} == {
        key: value for key, value in full.items() if key != "heat_map"}
    assert list(compact) == list(full)


def test_every_cell_of_the_full_form_is_recovered_with_unknown_values_an_erased_pupil_and_no_judgements():
    full, compact = both(snapshot(pupils=(*PUPILS, ERASED), judgements=(
        judged("p1", MA1, 4), judged("p2", MA1, 9), judged("p6", MA1, 3), judged("p6", EN1, 3),
        judged("p3", MA2, 3, on=date(2026, 11, 1)), judged("p1", EN1, 2), judged("p1", EN1, 1))))
    assert expand_heat_map(compact["heat_map"], objective_ids(compact)) == full["heat_map"]
    rows = {row["pupil_id"]: row["cells"] for row in compact["heat_map"]["rows"]}
    assert list(rows) == ["p1", "p2", "p3", "p4", "p5", "p6"] and rows["p4"] == [None, None, None]
    cells = compact["heat_map"]["cells"]
    assert cells[rows["p2"][1]] == {**SECURE, "value": 9, "label": None, "secure": False}  # a value the scale lacks
    assert cells[rows["p1"][0]]["label"] == "Red"  # the latest of p1's two English judgements
    assert full["heat_map"][5] == {"pupil_id": "p6", "cells": {"o-en1": cells[rows["p6"][0]],
                                                               "o-ma1": cells[rows["p6"][1]]}}


def test_the_same_value_and_label_on_two_scales_is_one_cell():
    twin = Scale("twin", "Another scale with the same bands", EDSM.bands)
    ma2 = replace(MA2, scale_id="twin")
    full, compact = both(snapshot(objectives=(MA1, ma2), scales={"edsm": EDSM, "twin": twin},
                                  judgements=(judged("p1", MA1, 3), judged("p1", ma2, 3))))
    assert compact["heat_map"]["cells"] == [SECURE]
    assert compact["heat_map"]["rows"][0]["cells"] == [0, 0]
    assert expand_heat_map(compact["heat_map"], objective_ids(compact)) == full["heat_map"]


@pytest.mark.parametrize("filters", [{"subject": "Maths"}, {"group": "sen"}, {"subject": "English", "group": "eal"},
                                     {"group": "more_able"}])
def test_both_forms_agree_under_the_filters(filters):
    full, compact = both(snapshot(), **filters)
    assert expand_heat_map(compact["heat_map"], objective_ids(compact)) == full["heat_map"]
    assert [len(row["cells"]) for row in compact["heat_map"]["rows"]] == [len(full["objectives"])] * len(
        full["pupils"])


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ValueError, match="columns"):
        analyse_class(snapshot(), heat_map="columns")


def test_the_documented_schema_loads_both_forms_and_refuses_a_mixture():
    full, compact = both(snapshot())
    schema = ClassAnalysisSchema()
    schema.load(full, unknown=RAISE)
    schema.load(compact, unknown=RAISE)
    mixed = analyse_class(snapshot(), heat_map="compact")
    mixed["heat_map"] = {**mixed["heat_map"], "rows": [{"pupil_id": "p1", "cells": [{"o-ma1": SECURE}]}]}
    with pytest.raises(ValidationError):
        schema.load(mixed, unknown=RAISE)
    with pytest.raises(ValidationError):
        schema.load({**compact, "heat_map": {"cells": [], "rows": [{"pupil_id": "p1", "cells": [-1]}]}},
                    unknown=RAISE)
