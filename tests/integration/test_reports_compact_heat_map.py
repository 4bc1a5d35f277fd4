"""``heat_map=compact`` on the Class Analysis against a real PostgreSQL: the same view as the default answer, with
the heat map expanded back cell for cell; its own kept body and ``ETag``; documented as both shapes."""

from __future__ import annotations

import gzip

from marshmallow import RAISE

from fathom_reports.responses import BODIES_EXTENSION
from fathom_reports.schemas.class_analysis import ClassAnalysisSchema
from fathom_reports.views.heat_map import expand_heat_map
from tests.integration import test_reports_api as reports_api
from tests.integration.test_reports_api import analysis

# The reports API tests' fixtures: its app and tokens, its hand-made class 4a and its 30 × 100 class 6x.
client, auth, class_4a, class_6x = reports_api.client, reports_api.auth, reports_api.class_4a, reports_api.class_6x
projection_listener_stopped_afterwards = reports_api.projection_listener_stopped_afterwards


def expanded(body: dict) -> dict:
    """The compact answer with its heat map in the full form again."""
    objective_ids = [objective["objective_id"] for objective in body["objectives"]]
    return {**body, "heat_map": expand_heat_map(body["heat_map"], objective_ids)}


def test_the_compact_form_expands_to_exactly_the_full_answer_of_a_big_class(client, auth, class_6x):
    headers = auth("teacher", classes=[class_6x])
    full = analysis(client, class_6x, headers)
    compact = analysis(client, class_6x, headers, heat_map="compact")
    assert full.status_code == compact.status_code == 200
    body = compact.get_json()
    ClassAnalysisSchema().load(body, unknown=RAISE)
    assert [len(row["cells"]) for row in body["heat_map"]["rows"]] == [100] * 30
    assert len(body["heat_map"]["cells"]) < 100  # 4 values × 20 days, not 3,000 cells
    assert expanded(body) == full.get_json()
    assert len(compact.get_data()) * 3 < len(full.get_data())


def test_the_default_answer_is_the_full_form_and_full_may_be_asked_for(client, auth, class_4a):
    headers = auth("trust_leader")
    default = analysis(client, class_4a, headers)
    asked = analysis(client, class_4a, headers, heat_map="full")
    assert default.get_data() == asked.get_data()
    assert isinstance(default.get_json()["heat_map"], list)


def test_both_forms_agree_under_every_filter(client, auth, class_4a):
    headers = auth("trust_leader")
    for query in ({"subject": "Maths"}, {"group": "pupil_premium"}, {"source": "moderator"}, {"source": "self"},
                  {"subject": "English", "group": "sen"}):
        full = analysis(client, class_4a, headers, **query).get_json()
        compact = analysis(client, class_4a, headers, heat_map="compact", **query).get_json()
        ClassAnalysisSchema().load(compact, unknown=RAISE)
        assert expanded(compact) == full, query


def test_each_form_is_kept_and_revalidated_under_its_own_etag(client, auth, class_4a):
    headers = auth("trust_leader")
    full = analysis(client, class_4a, headers)
    compact = analysis(client, class_4a, headers, heat_map="compact")
    assert full.headers["ETag"] != compact.headers["ETag"]
    assert len(client.application.extensions[BODIES_EXTENSION]) == 2
    again = analysis(client, class_4a, headers, heat_map="compact")
    assert again.get_data() == compact.get_data() and again.headers["ETag"] == compact.headers["ETag"]
    # One form's tag never revalidates the other.
    crossed = client.get(f"/v1/classes/{class_4a}/analysis", query_string={"heat_map": "compact"},
                         headers={**headers, "If-None-Match": full.headers["ETag"]})
    assert crossed.status_code == 200 and crossed.get_data() == compact.get_data()
    current = client.get(f"/v1/classes/{class_4a}/analysis", query_string={"heat_map": "compact"},
                         headers={**headers, "If-None-Match": compact.headers["ETag"]})
    assert current.status_code == 304


def test_the_compact_form_is_gzipped_like_any_large_body(client, auth, class_6x):
    headers = {**auth("teacher", classes=[class_6x]), "Accept-Encoding": "gzip"}
    answer = analysis(client, class_6x, headers, heat_map="compact")
    assert answer.headers["Content-Encoding"] == "gzip"
    plain = analysis(client, class_6x, auth("teacher", classes=[class_6x]), heat_map="compact")
    assert gzip.decompress(answer.get_data()) == plain.get_data()


def test_an_unknown_encoding_is_a_problem_naming_the_argument(client, auth, class_4a):
    answer = analysis(client, class_4a, auth("trust_leader"), heat_map="columns")
    assert answer.status_code == 422
    assert "heat_map" in str(answer.get_json()["errors"])


def test_a_csv_export_is_the_same_table_whichever_form_is_asked_for(client, auth, class_4a):
    headers = auth("trust_leader")
    full = analysis(client, class_4a, headers, format="csv", table="heat_map")
    compact = analysis(client, class_4a, headers, format="csv", table="heat_map", heat_map="compact")
    assert full.status_code == compact.status_code == 200
    assert full.get_data() == compact.get_data()


def test_the_openapi_document_describes_both_forms(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/v1/classes/{class_id}/analysis"]["get"]
    argument = next(p for p in operation["parameters"] if p["name"] == "heat_map")
    assert argument["in"] == "query" and argument["schema"]["enum"] == ["full", "compact"]
    assert argument["schema"]["default"] == "full"
    schemas = spec["components"]["schemas"]
    shapes = schemas["ClassAnalysis"]["properties"]["heat_map"]["oneOf"]
    assert shapes == [{"type": "array", "items": {"$ref": "#/components/schemas/HeatMapRow"}},
                      {"$ref": "#/components/schemas/CompactHeatMap"}]
    assert "heat_map" in schemas["ClassAnalysis"]["required"]
    compact = schemas["CompactHeatMap"]
    assert compact["required"] == ["cells", "rows"]
    assert compact["properties"]["cells"]["items"] == {"$ref": "#/components/schemas/Cell"}
    row = schemas[compact["properties"]["rows"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert row["properties"]["cells"]["items"]["type"] == ["integer", "null"]
