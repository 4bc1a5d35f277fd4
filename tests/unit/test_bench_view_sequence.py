"""Write-to-visible checks each read's ``sequence`` from the front of the view, without parsing all of it."""

import orjson
import pytest

from fathom_reports.views.class_analysis import analyse_class
from tests.bench.workloads import view_sequence
from tests.unit.test_reports_analysis import snapshot


def test_the_sequence_read_from_the_front_is_the_views_own() -> None:
    view = analyse_class(snapshot())
    view["class"]["name"] = 'Year 4 "sequence":99'  # a name holding the key's text, as JSON escapes it
    body = orjson.dumps(view)
    assert view_sequence(body) == orjson.loads(body)["sequence"] == snapshot().sequence


def test_a_body_without_a_sequence_near_its_front_is_refused() -> None:
    with pytest.raises(ValueError, match="no sequence"):
        view_sequence(orjson.dumps({"class": {"name": "x" * 5000}, "sequence": 7}))
