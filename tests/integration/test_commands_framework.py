"""Scales (presets, versions, colours), objective retirement and the framework CSV import."""

from __future__ import annotations

import io

import pytest

from fathom_api.scale_presets import PRESETS
from fathom_api.validation import school_today
from tests.support import bearer, events_of, rows_of, token_for


def test_presets_are_listed_and_adopted_in_one_call(client, leader, app_engine, trust):
    listed = client.get("/v1/scales/presets", headers=leader)
    assert listed.status_code == 200
    assert [p["preset"] for p in listed.json] == list(PRESETS)
    adopted = client.post("/v1/scales/presets/depth-1-9", json={}, headers=leader)
    assert adopted.status_code == 201 and adopted.json["id"] == "depth-1-9"
    named = client.post("/v1/scales/presets/red-amber-green", json={"id": "rag"}, headers=leader)
    assert named.status_code == 201
    depth, rag = (e.data for e in events_of(app_engine, trust, "ScaleDefined"))
    assert [(b["value"], b["label"], b["secure"]) for b in depth["bands"]][::3] == [
        (1, "1 prestructural", False), (4, "4 unistructural", False), (7, "7 multistructural", True)]
    assert [b["value"] for b in depth["bands"] if b["secure"]] == [7, 8, 9]
    assert all(len(b["colour"]) == 7 and b["colour"].startswith("#") for b in depth["bands"])
    assert (depth["version"], depth["previous_version"]) == (1, None)
    assert rag["scale_id"] == "rag" and [b["secure"] for b in rag["bands"]] == [False, False, True]
    assert client.post("/v1/scales/presets/depth-1-9", json={}, headers=leader).status_code == 409
    assert client.post("/v1/scales/presets/no-such", json={}, headers=leader).status_code == 404
    teacher = bearer(token_for(client.application.extensions["fathom.settings"], trust, ["teacher"]))
    assert client.post("/v1/scales/presets/yes-no", json={}, headers=teacher).status_code == 403
    assert len(events_of(app_engine, trust)) == 2


def test_every_preset_is_a_valid_scale(client, leader, app_engine, trust):
    for preset in PRESETS:
        assert client.post(f"/v1/scales/presets/{preset}", json={}, headers=leader).status_code == 201
    assert len(events_of(app_engine, trust, "ScaleDefined")) == len(PRESETS)


def test_band_colours_are_validated(client, leader, app_engine, trust):
    bad = client.post("/v1/scales", headers=leader, json={"name": "X", "bands": [
        {"value": 1, "label": "a", "secure": False, "colour": "red"},
        {"value": 2, "label": "b", "secure": True, "colour": "#00FF00"}]})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"bands.0.colour"}
    good = client.post("/v1/scales", headers=leader, json={"id": "c", "name": "X", "bands": [
        {"value": 1, "label": "a", "secure": False, "colour": "#d55e00"}, {"value": 2, "label": "b", "secure": True}]})
    assert good.status_code == 201
    [event] = events_of(app_engine, trust)
    assert [b["colour"] for b in event.data["bands"]] == ["#d55e00", None]


def test_a_new_scale_version_supersedes_without_changing_the_old(client, leader, small, app_engine, trust):
    bands = [{"value": v, "label": str(v), "secure": v > 2} for v in (1, 2, 3, 4, 5)]
    v2 = client.post(f"/v1/scales/{small.scale}/versions", json={"bands": bands}, headers=leader)
    assert v2.status_code == 201 and v2.json["id"] == "esdm-v2"
    v3 = client.post("/v1/scales/esdm-v2/versions", json={"name": "Five", "bands": bands}, headers=leader)
    assert v3.json["id"] == "esdm-v3"
    data = [e.data for e in events_of(app_engine, trust, "ScaleDefined")][1:]
    assert [(d["scale_id"], d["name"], d["version"], d["previous_version"]) for d in data] == [
        ("esdm-v2", "Emerging to Mastery", 2, "esdm"), ("esdm-v3", "Five", 3, "esdm-v2")]
    assert rows_of(app_engine, trust, "SELECT version, previous_version FROM scales WHERE scale_id = 'esdm-v3'")[
        0] == (3, "esdm-v2")
    old = rows_of(app_engine, trust, "SELECT bands FROM scales WHERE scale_id = 'esdm'")[0].bands
    assert [b["value"] for b in old] == [1, 2, 3, 4]
    superseded = client.post(f"/v1/scales/{small.scale}/versions", json={"bands": bands}, headers=leader)
    assert superseded.status_code == 409
    assert client.post("/v1/scales/ghost/versions", json={"bands": bands}, headers=leader).status_code == 404
    unordered = client.post("/v1/scales/esdm-v3/versions", headers=leader,
                            json={"bands": [bands[1], bands[0], bands[2]]})
    assert unordered.status_code == 422 and "bands" in unordered.json["errors"]


def test_retiring_an_objective(client, leader, small, app_engine, trust, settings, make_trust):
    today = school_today().isoformat()
    response = client.post("/v1/objectives/m4-1/retirement", json={"retired_on": today}, headers=leader)
    assert response.status_code == 201
    [event] = events_of(app_engine, trust, "ObjectiveRetired")
    assert (event.stream_id, event.data) == ("m4-1", {"objective_id": "m4-1", "retired_on": today})
    assert rows_of(app_engine, trust, "SELECT retired FROM objectives WHERE objective_id = 'm4-1'")[0].retired
    assert client.post("/v1/objectives/m4-1/retirement", json={"retired_on": today},
                       headers=leader).status_code == 409
    assert client.post("/v1/objectives/m4-2/retirement", json={"retired_on": "2999-01-01"},
                       headers=leader).json["errors"] == {"retired_on": ["Must not be in the future."]}
    assert client.post("/v1/objectives/m4-2/retirement", json={}, headers=leader).status_code == 422
    other = bearer(token_for(settings, make_trust("other"), ["trust_leader"]))
    assert client.post("/v1/objectives/m4-2/retirement", json={"retired_on": today}, headers=other).status_code == 404
    refused = client.post("/v1/judgements", headers=leader, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 3, "assessed_on": today}]})
    assert refused.status_code == 422 and "judgements.0.objective_id" in refused.json["errors"]
    assert len(events_of(app_engine, trust, "ObjectiveRetired")) == 1


HEADER = "id,code,subject,year_group,strand,text,weight,scale_id\n"
GOOD = HEADER + (
    "e5-1,Y5-E1,english,5,reading,\"Infer feelings, thoughts and motives\",,esdm\n"
    ",Y5 E2,english,5,writing,Plan writing,2.5,esdm\n"
)


def _import(client, headers, body, dry_run=False, multipart=False):
    url = f"/v1/objectives/import?dry_run={str(dry_run).lower()}"
    if multipart:
        return client.post(url, headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(body.encode()), "framework.csv")})
    return client.post(url, headers=headers, data=body.encode(), content_type="text/csv")


def test_framework_import_dry_run_then_import_then_reimport_changes_nothing(client, leader, small, app_engine, trust):
    before = len(events_of(app_engine, trust))
    dry = _import(client, leader, GOOD, dry_run=True)
    assert dry.status_code == 200, dry.json
    assert dry.json["dry_run"] is True and dry.json["counts"] == {"objectives": {"created": 2, "unchanged": 0}}
    assert len(events_of(app_engine, trust)) == before
    real = _import(client, leader, GOOD, multipart=True)
    assert real.status_code == 201, real.json
    assert real.json["counts"] == {"objectives": {"created": 2, "unchanged": 0}}
    created = [e.data for e in events_of(app_engine, trust, "ObjectiveDefined")][-2:]
    assert created == [
        {"objective_id": "e5-1", "code": "Y5-E1", "subject": "english", "year_group": 5, "strand": "reading",
         "text": "Infer feelings, thoughts and motives", "weight": None, "scale_id": "esdm"},
        {"objective_id": "Y5-E2", "code": "Y5 E2", "subject": "english", "year_group": 5, "strand": "writing",
         "text": "Plan writing", "weight": 2.5, "scale_id": "esdm"}]
    again = _import(client, leader, GOOD)
    assert again.status_code == 201 and again.json["counts"] == {"objectives": {"created": 0, "unchanged": 2}}
    assert again.json["sequences"] == []
    assert len(events_of(app_engine, trust, "ObjectiveDefined")) == 5


def test_framework_import_reports_every_bad_row_by_line_and_writes_nothing(client, leader, small, app_engine, trust):
    body = HEADER + (
        "a1,A1,maths,4,,Text,,esdm\n"            # line 2: fine
        "\n"                                     # line 3: blank, skipped
        "a2,A2,maths,four,,Text,,esdm\n"         # line 4: year_group
        "a3,A3,maths,4,,,,nope\n"                # line 5: text missing, scale unknown
        "a1,A1b,maths,4,,Text,,esdm\n"           # line 6: duplicate id
        "m4-1,Y4-M1,maths,4,number,Changed,,esdm\n"  # line 7: exists with a different text
        "a4,A4,maths,4,,Text,-1,esdm,extra\n"    # line 8: too many fields
        "a5,A5,maths,4,,Text,x,esdm\n"           # line 9: weight
    )
    response = _import(client, leader, body)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"rows.4.year_group", "rows.5.text", "rows.6.id", "rows.7.id", "rows.8",
                                            "rows.9.weight"}
    # Database checks (scale, existing objectives) run on every row that passed the file checks.
    fixed = body.replace("four", "4").replace(",,,,nope", ",,Text,,nope").replace("a1,A1b", "a6,A6") \
        .replace(",extra", "").replace(",x,", ",1,")
    second = _import(client, leader, fixed)
    assert set(second.json["errors"]) == {"rows.5.scale_id", "rows.7.id", "rows.8.weight"}
    assert "text" in second.json["errors"]["rows.7.id"][0]
    assert len(events_of(app_engine, trust, "ObjectiveDefined")) == 3


def test_a_row_error_is_answered_as_one_invalid_file_problem(client, leader, small, app_engine, trust):
    before = len(events_of(app_engine, trust))
    response = _import(client, leader, HEADER + "a1,A1,maths,four,,Text,,esdm\n")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    body = {k: v for k, v in response.json.items() if k != "instance"}
    assert body == {"type": "about:blank", "title": "Invalid file", "status": 422,
                    "detail": "Nothing was imported; fix these rows and send the file again.",
                    "errors": {"rows.2.year_group": ["Not a valid integer."]}}
    assert len(events_of(app_engine, trust)) == before


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("", "rows.1"),
        ("code,subject,year_group,text\n", "rows.1.scale_id"),
        (HEADER.replace("strand", "colour"), "rows.1.colour"),
    ],
)
def test_framework_import_header_problems_are_line_1(client, leader, small, body, key):
    response = _import(client, leader, body)
    assert response.status_code == 422 and key in response.json["errors"]


def test_framework_import_limits_and_media_types(client, leader, small, app_engine, trust):
    rows = "".join(f"x{n},X{n},maths,4,,T,,esdm\n" for n in range(5001))
    assert _import(client, leader, HEADER + rows).status_code == 413
    assert client.post("/v1/objectives/import", headers=leader, json={"a": 1}).status_code == 415
    missing = client.post("/v1/objectives/import", headers=leader, content_type="multipart/form-data",
                          data={"other": (io.BytesIO(b"x"), "x.csv")})
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    latin = _import(client, leader, "")
    assert latin.status_code == 422
    binary = client.post("/v1/objectives/import", headers=leader, data=b"\xff\xfe\x00", content_type="text/csv")
    assert binary.status_code == 422 and "file" in binary.json["errors"]
    assert client.post("/v1/objectives/import?dry_run=maybe", headers=leader, data=GOOD,
                       content_type="text/csv").status_code == 422
    teacher = bearer(token_for(client.application.extensions["fathom.settings"], trust, ["teacher"]))
    assert _import(client, teacher, GOOD).status_code == 403
    assert len(events_of(app_engine, trust, "ObjectiveDefined")) == 3


def test_framework_endpoints_are_in_openapi(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/v1/scales/presets", "/v1/scales/presets/{preset}", "/v1/scales/{scale_id}/versions",
                 "/v1/objectives/{objective_id}/retirement", "/v1/objectives/import"):
        assert path in paths, path
    assert "text/csv" in paths["/v1/objectives/import"]["post"]["requestBody"]["content"]
