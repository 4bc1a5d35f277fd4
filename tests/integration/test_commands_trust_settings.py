"""Trust settings: rollup method and analysis thresholds, trust leaders only."""

from __future__ import annotations

import pytest

from tests.support import bearer, events_of, token_for


@pytest.mark.parametrize(
    ("body", "data"),
    [
        ({"method": "latest"}, {"method": "latest", "n": None}),
        ({"method": "highest"}, {"method": "highest", "n": None}),
        ({"method": "mean_last_n", "n": 3}, {"method": "mean_last_n", "n": 3}),
        ({"method": "secure_n_times", "n": 2}, {"method": "secure_n_times", "n": 2}),
    ],
)
def test_rollup_method_changes_on_the_trust_stream(client, leader, app_engine, trust, body, data):
    response = client.put("/v1/settings/rollup", json=body, headers=leader)
    assert response.status_code == 200, response.json
    [event] = events_of(app_engine, trust)
    assert (event.stream_type, event.stream_id, event.event_type) == ("trust", trust, "RollupMethodChanged")
    assert event.data == data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "average"}, "method"),
        ({"method": "mean_last_n"}, "n"),
        ({"method": "secure_n_times", "n": 0}, "n"),
        ({"method": "secure_n_times", "n": 11}, "n"),
        ({"method": "latest", "n": 2}, "n"),
        ({"method": "mean_last_n", "n": "3"}, "n"),
        ({}, "method"),
    ],
)
def test_bad_rollups_name_the_field(client, leader, app_engine, trust, body, field):
    response = client.put("/v1/settings/rollup", json=body, headers=leader)
    assert response.status_code == 422 and field in response.json["errors"]
    assert events_of(app_engine, trust) == []


def test_thresholds_any_subset(client, leader, app_engine, trust):
    first = client.put("/v1/settings", json={"small_group_threshold": 8}, headers=leader)
    second = client.put("/v1/settings", headers=leader, json={
        "small_group_threshold": 1, "secure_target_percent": 62.5, "score_disagreement_margin": 0})
    assert first.status_code == second.status_code == 200
    assert second.json["stream_version"] == 2
    assert [e.data for e in events_of(app_engine, trust, "TrustSettingsChanged")] == [
        {"small_group_threshold": 8, "secure_target_percent": None, "score_disagreement_margin": None},
        {"small_group_threshold": 1, "secure_target_percent": 62.5, "score_disagreement_margin": 0},
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_body"),
        ({"small_group_threshold": 0}, "small_group_threshold"),
        ({"small_group_threshold": 51}, "small_group_threshold"),
        ({"secure_target_percent": 101}, "secure_target_percent"),
        ({"secure_target_percent": -1}, "secure_target_percent"),
        ({"score_disagreement_margin": 6}, "score_disagreement_margin"),
        ({"score_disagreement_margin": 1.5}, "score_disagreement_margin"),
        ({"rollup": "latest"}, "rollup"),
    ],
)
def test_bad_thresholds_name_the_field(client, leader, app_engine, trust, body, field):
    response = client.put("/v1/settings", json=body, headers=leader)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert events_of(app_engine, trust) == []


@pytest.mark.parametrize("role", ["teacher", "school_leader", "integration", "auditor"])
def test_only_trust_leaders_change_settings(client, settings, app_engine, trust, role):
    headers = bearer(token_for(settings, trust, [role], schools=["s"], classes=["c"]))
    assert client.put("/v1/settings/rollup", json={"method": "highest"}, headers=headers).status_code == 403
    assert client.put("/v1/settings", json={"small_group_threshold": 3}, headers=headers).status_code == 403
    assert events_of(app_engine, trust) == []


def test_platform_admin_may_and_openapi_lists_both(client, settings, app_engine, trust):
    admin = bearer(token_for(settings, trust, ["platform_admin"]))
    assert client.put("/v1/settings/rollup", json={"method": "highest"}, headers=admin).status_code == 200
    paths = client.get("/openapi.json").json["paths"]
    assert "put" in paths["/v1/settings/rollup"] and "put" in paths["/v1/settings"]


def test_a_setting_goes_back_to_its_default_when_reset(client, leader, app_engine, trust):
    """Before, nothing could undo a threshold: a null in the event means "unchanged"."""
    from fathom_projector.rebuild import rebuild_trust
    from tests.support import rows_of

    assert client.put("/v1/settings", headers=leader, json={
        "secure_target_percent": 85, "small_group_threshold": 3}).status_code == 200
    answer = client.put("/v1/settings", headers=leader, json={"reset": ["secure_target_percent"]})
    assert answer.status_code == 200, answer.json
    assert [(e.event_type, e.data) for e in events_of(app_engine, trust)][-1] == (
        "TrustSettingsReset", {"settings": ["secure_target_percent"]})
    rebuild_trust(app_engine, trust)
    assert [tuple(r) for r in rows_of(app_engine, trust, "SELECT small_group_threshold, secure_target_percent "
                                      "FROM rm_trust_settings")] == [(3, 70)]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"reset": ["secure_target"]}, {"reset.0": ["Must be one of: small_group_threshold, "
                                                    "secure_target_percent, score_disagreement_margin."]}),
        ({"reset": ["rollup_method"]}, {"reset.0": ["Must be one of: small_group_threshold, "
                                                    "secure_target_percent, score_disagreement_margin."]}),
        ({"secure_target_percent": 80, "reset": ["small_group_threshold", "secure_target_percent"]},
         {"reset.1": ["Also given a value in this request."]}),
        ({"reset": []}, {"_body": ["Give at least one setting."]}),
    ],
)
def test_a_reset_names_the_setting_it_cannot_reset(client, leader, app_engine, trust, body, errors):
    answer = client.put("/v1/settings", json=body, headers=leader)
    assert answer.status_code == 422 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json["errors"] == errors
    assert events_of(app_engine, trust) == []


def test_openapi_documents_the_reset(client):
    field = client.get("/openapi.json").json["components"]["schemas"]["TrustSettingsIn"]["properties"]["reset"]
    assert field["items"]["enum"] == ["small_group_threshold", "secure_target_percent", "score_disagreement_margin"]
    assert "defaults" in field["description"]
