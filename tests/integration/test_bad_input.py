"""Bad input is refused with a 4xx problem naming the field, never answered with a 500.

Each case here answered 500 before the one input rule in ``fathom_shared.web.refuse_unsafe_input`` (NUL
characters PostgreSQL cannot store, JSON nested 1,000 deep, numbers beyond 64 bits) and the range checks on
``as_of`` / ``after``. Both services run in-process on the real PostgreSQL as the application role.
"""

from __future__ import annotations

import uuid

import pytest

from fathom_reports import create_app as create_reports
from fathom_shared.web.input_refusal import INT64_MAX, MAX_JSON_DEPTH
from fathom_shared.web.problems import PROBLEM_JSON
from tests.support import bearer, events_of, token_for


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def integration(settings, trust):
    return bearer(token_for(settings, trust, ["integration"], sub="bi-tool"))


def refused(response, status: int, field: str) -> dict:
    """The answer is a ``status`` problem whose ``errors`` name ``field``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    problem = response.json
    assert field in problem["errors"], problem
    return problem


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/classes/4A/staff", {"staff_sub": "teacher\x00one"}, "staff_sub"),
    ("/v1/objectives", {"code": "Y4-M9", "subject": "maths", "year_group": 4, "strand": "number",
                        "text": "Add\x00", "scale_id": "esdm"}, "text"),
    ("/v1/judgements", {"judgements": [{"pupil_id": "p1", "objective_id": "m4-1", "value": 2,
                                        "assessed_on": "2026-11-02", "note": "ok\x00"}]}, "judgements.0.note"),
    ("/v1/schools", {"name": "Oak", "\x00": 1}, "\x00"),
    ("/v1/schools", {"name": "Oak\ud800"}, "name"),
])
def test_a_nul_or_unpaired_surrogate_in_a_command_is_refused_naming_the_field(client, leader, small, path, body,
                                                                              field):
    refused(client.post(path, json=body, headers=leader), 422, field)


def test_a_nul_in_a_path_or_query_parameter_is_refused_naming_it(client, reports, leader, small):
    refused(client.delete("/v1/classes/4A/staff/a%00b", headers=leader), 422, "path.staff_sub")
    refused(reports.get("/v1/classes/4A/analysis", query_string={"subject": "ma\x00ths"}, headers=leader),
            422, "query.subject")


def test_numbers_beyond_64_bits_or_infinite_are_refused_naming_the_field(client, reports, leader, small,
                                                                        integration, settings, trust):
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="auditor"))
    too_big = 2**64
    refused(client.post("/v1/scales/esdm/versions", json={"bands": [], "expected_version": too_big},
                        headers=leader), 422, "expected_version")
    refused(client.post("/v1/judgements", data='{"judgements": [{"value": 1e999}]}', headers=leader,
                        content_type="application/json"), 422, "judgements.0.value")
    refused(reports.get("/v1/changes", query_string={"after": str(too_big)}, headers=integration), 422,
            "query.after")
    refused(reports.get("/v1/audit/events", query_string={"after": str(too_big)}, headers=auditor), 422,
            "query.after")
    hook = reports.post("/v1/webhooks", json={"url": "http://receiver.invalid/hook"}, headers=integration)
    assert hook.status_code == 201, hook.json
    refused(reports.post(f"/v1/webhooks/{hook.json['id']}/replay", json={"from_notice": too_big},
                         headers=integration), 422, "from_notice")
    assert reports.get("/v1/changes", query_string={"after": str(INT64_MAX)}, headers=integration).status_code == 200


def test_json_nested_too_deep_is_a_400_before_any_role_check(client, settings, trust):
    nobody = bearer(token_for(settings, trust, ["auditor"], sub="someone"))
    deep = "[" * 1000 + "]" * 1000
    for headers in (nobody, {}):
        response = client.post("/v1/judgements", data=deep, headers=headers, content_type="application/json")
        refused(response, 400, "_body")
    allowed = '{"judgements": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = client.post("/v1/judgements", data=allowed, headers=nobody, content_type="application/json")
    # Within the limit the body reaches the endpoint's schema, which refuses the (empty) lists as before.
    assert response.status_code == 422 and "_body" not in response.json["errors"], response.json


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_as_of_at_the_edge_of_the_calendar_is_refused_naming_as_of(reports, leader, small, as_of):
    for path in ("/v1/classes/4A/analysis", "/v1/pupils/p1", "/v1/trust/analysis"):
        refused(reports.get(path, query_string={"as_of": as_of}, headers=leader), 422, "query.as_of")


def test_a_plain_client_request_id_is_kept_in_the_event_metadata(client, leader, small, app_engine, trust):
    response = client.post("/v1/schools", json={"name": "Ash"}, headers={**leader, "X-Request-Id": "bi-run.42_a"})
    assert response.status_code == 201
    assert response.headers["X-Request-Id"] == "bi-run.42_a"
    assert events_of(app_engine, trust)[-1].metadata["request_id"] == "bi-run.42_a"


@pytest.mark.parametrize("sent", ["<script>alert(1)</script>", "a" * 129, "spaces are not allowed", "ünïcode"])
def test_an_unsafe_client_request_id_is_replaced_before_it_enters_the_event_chain(client, leader, small, app_engine,
                                                                                  trust, sent):
    response = client.post("/v1/schools", json={"name": f"Elm {uuid.uuid4().hex[:6]}"},
                           headers={**leader, "X-Request-Id": sent})
    assert response.status_code == 201
    used = response.headers["X-Request-Id"]
    assert used != sent and len(used) == 32 and used.isalnum()
    assert events_of(app_engine, trust)[-1].metadata["request_id"] == used


def test_a_nul_in_an_uploaded_csv_is_refused_naming_the_file(client, leader, small):
    csv = "code,subject,year_group,strand,text,scale_id\nY4-M7,maths,4,number,Add\x00,esdm\n"
    response = client.post("/v1/objectives/import", data=csv.encode(), headers=leader, content_type="text/csv")
    refused(response, 422, "file")
