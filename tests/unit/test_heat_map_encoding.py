"""The compact heat-map encoding on hand-made heat maps: every cell of the full form comes back from the compact
one, equal cells are listed once, and the default view is left exactly as it is."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import RAISE, ValidationError

from fathom_reports.schemas.class_analysis import ClassAnalysisSchema
from fathom_reports.views.class_analysis import analyse_class
from fathom_reports.views.heat_map import compact_heat_map, encode_heat_map, expand_heat_map
from fathom_reports.views.values import Judgement, Pupil
from tests.unit.test_reports_analysis import EN1, MA1, MA2, PUPILS, judged, snapshot

OBJECTIVES = ["o-a", "o-b", "o-c"]
SECURE = {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-10-05", "source": "teacher"}
UNKNOWN = {"value": 9, "label": None, "secure": False, "assessed_on": "2026-10-05", "source": "teacher"}
MODERATED = {"value": 3, "label": "Secure", "secure": True, "assessed_on": "2026-11-02", "source": "moderator"}


def full_rows() -> list[dict]:
    return [
        {"pupil_id": "p1", "cells": {"o-a": SECURE, "o-b": dict(SECURE), "o-c": UNKNOWN}},  # equal, not the same
        {"pupil_id": "p2", "cells": {}},  # no judgement at all
        {"pupil_id": "p3", "cells": {"o-b": MODERATED, "o-c": dict(UNKNOWN)}},
    ]


def test_equal_cells_are_listed_once_and_each_pupil_points_at_them_in_objective_order():
    assert compact_heat_map(full_rows(), OBJECTIVES) == {
        "cells": [SECURE, UNKNOWN, MODERATED],
        "rows": [{"pupil_id": "p1", "cells": [0, 0, 1]},
                 {"pupil_id": "p2", "cells": [None, None, None]},
                 {"pupil_id": "p3", "cells": [None, 2, 1]}],
    }


def test_every_cell_of_the_full_form_is_recovered_from_the_compact_one():
    compact = compact_heat_map(full_rows(), OBJECTIVES)
    assert expand_heat_map(compact, OBJECTIVES) == full_rows()


def test_no_pupils_or_no_objectives_give_an_empty_compact_form():
    assert compact_heat_map([], OBJECTIVES) == {"cells": [], "rows": []}
    assert compact_heat_map([{"pupil_id": "p1", "cells": {}}], []) == {
        "cells": [], "rows": [{"pupil_id": "p1", "cells": []}]}
    assert expand_heat_map({"cells": [], "rows": [{"pupil_id": "p1", "cells": []}]}, []) == [
        {"pupil_id": "p1", "cells": {}}]


def test_a_cell_for_an_objective_the_view_does_not_list_is_refused_not_dropped():
    with pytest.raises(ValueError, match="o-x"):
        compact_heat_map([{"pupil_id": "p1", "cells": {"o-a": SECURE, "o-x": SECURE}}], OBJECTIVES)


def test_a_view_is_encoded_compact_only_when_asked_and_keeps_its_keys_in_order():
    view = analyse_class(snapshot())
    assert encode_heat_map(view, "full") is view
    compact = encode_heat_map(view, "compact")
    assert list(compact) == list(view)
    assert {key: value for key, value in compact.items() if key != "heat_map"} == {
        key: value for key, value in view.items() if key != "heat_map"}
    with pytest.raises(ValueError):
        encode_heat_map(view, "columns")


def test_a_real_view_round_trips_with_unknown_values_an_erased_pupil_and_pupils_without_judgements():
    erased = Pupil("p6", None, {"pupil_premium": False}, erased=True)
    view = analyse_class(snapshot(pupils=(*PUPILS, erased), judgements=(
        judged("p1", MA1, 4), judged("p2", MA1, 9), judged("p6", MA1, 3), judged("p6", EN1, 3),
        judged("p3", MA2, 3, on=date(2026, 11, 1)), Judgement("p1", "o-en1", 2, date(2026, 10, 5), "teacher"))))
    objective_ids = [objective["objective_id"] for objective in view["objectives"]]
    compact = encode_heat_map(view, "compact")["heat_map"]
    assert expand_heat_map(compact, objective_ids) == view["heat_map"]
    assert [row["pupil_id"] for row in compact["rows"]] == ["p1", "p2", "p3", "p4", "p5", "p6"]
    assert compact["rows"][3]["cells"] == [None, None, None]  # p4: nothing judged
    unknown = next(cell for cell in compact["cells"] if cell["value"] == 9)
    assert (unknown["label"], unknown["secure"]) == (None, False)
    assert len(compact["cells"]) == len({tuple(sorted(c.items())) for row in view["heat_map"]
                                         for c in row["cells"].values()})


def test_the_documented_schema_loads_both_encodings_and_refuses_a_mixture():
    view = analyse_class(snapshot())
    schema = ClassAnalysisSchema()
    schema.load(view, unknown=RAISE)
    schema.load(encode_heat_map(view, "compact"), unknown=RAISE)
    mixed = encode_heat_map(view, "compact")
    mixed["heat_map"]["rows"][0]["cells"][0] = {"o-ma1": SECURE}
    with pytest.raises(ValidationError):
        schema.load(mixed, unknown=RAISE)
