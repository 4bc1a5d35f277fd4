"""Class Analysis with ``from``/``to``: judgements assessed in the range, current by the trust's rollup."""

from __future__ import annotations

from datetime import date

import pytest

from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth


@pytest.fixture
def class_3c(app_engine, trust) -> str:
    (ReadModelSeed(trust).school("north").klass("3c", "north", year_group=3)
     .pupil("r1", "north", "3c", year_group=3, name=("Ann", "A")).pupil("r2", "north", "3c", year_group=3,
                                                                          name=("Bo", "B"))
     .pupil("r3", "north", "3c", year_group=3, name=("Cal", "C"))
     .scale("edsm").objective("m", "M3.1", "Maths", "edsm", year_group=3)
     .recorded("r1", "m", 1, date(2026, 9, 10)).recorded("r1", "m", 3, date(2026, 10, 10))
     .recorded("r1", "m", 2, date(2026, 11, 10))
     .recorded("r2", "m", 4, date(2026, 9, 20))
     .recorded("r2", "m", 1, date(2026, 10, 5), status="withdrawn", reason="wrong pupil", amended_by="hod")
     .recorded("r2", "m", 2, date(2026, 10, 20))
     .recorded("r3", "m", 3, date(2026, 11, 20))
     .recorded("r1", "m", 4, date(2026, 10, 12), source="self")
     .taught("3c", "m", date(2026, 9, 5)).taught("3c", "m", date(2026, 10, 15))
     .write(app_engine, last_applied=30))
    return "3c"


def view(client, headers, **query):
    response = client.get("/v1/classes/3c/analysis", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body, body["objectives"][0], {r["pupil_id"]: r["cells"].get("m") for r in body["heat_map"]}


def test_october_only(client, auth, class_3c):
    body, m, cells = view(client, auth("trust_leader"), **{"from": "2026-10-01", "to": "2026-10-31"})
    assert (body["filters"]["from"], body["filters"]["to"]) == ("2026-10-01", "2026-10-31")
    assert ([c["count"] for c in m["counts"]], m["assessed"], m["secure"], m["percent_secure"]) == (
        [0, 1, 1, 0], 2, 1, 50.0)
    assert (cells["r1"]["value"], cells["r1"]["assessed_on"]) == (3, "2026-10-10")
    assert (cells["r2"]["value"], cells["r2"]["assessed_on"]) == (2, "2026-10-20")  # the withdrawn 1 is ignored
    assert cells["r3"] is None
    assert m["taught_dates"] == ["2026-10-15"]
    self_view = view(client, auth("trust_leader"), source="self", **{"from": "2026-10-01", "to": "2026-10-31"})
    assert self_view[2]["r1"]["value"] == 4


def test_open_ended_ranges(client, auth, class_3c):
    assert view(client, auth("trust_leader"), to="2026-09-30")[1]["percent_secure"] == 50.0   # r1 1, r2 4
    _, m, cells = view(client, auth("trust_leader"), **{"from": "2026-11-01"})
    assert ({p: c["value"] if c else None for p, c in cells.items()}, m["assessed"]) == (
        {"r1": 2, "r2": None, "r3": 3}, 2)


@pytest.mark.parametrize(("method", "n", "values"), [
    ("latest", None, {"r1": 2, "r2": 2, "r3": 3}),
    ("highest", None, {"r1": 3, "r2": 4, "r3": 3}),
    ("mean_last_n", 2, {"r1": 3, "r2": 3, "r3": 3}),     # r1 (3 + 2) / 2 → the higher band; r2 (4 + 2) / 2
    ("secure_n_times", 2, {"r1": 2, "r2": 2, "r3": 2}),  # r3 secure once only: not yet secure
])
def test_the_trusts_rollup_method_applies(client, auth, app_engine, trust, class_3c, method, n, values):
    ReadModelSeed(trust).settings(rollup_method=method, rollup_n=n).write(app_engine)
    _, _, cells = view(client, auth("trust_leader"), **{"from": "2026-01-01", "to": "2026-12-31"})
    assert {p: c["value"] for p, c in cells.items()} == values
