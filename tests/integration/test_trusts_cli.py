"""``fathom trust create/list/suspend/resume`` through the CLI's ``main()``, against the test database.

A suspended trust's tokens get 403 from both APIs while its data stays exactly as it was;
resuming restores access. The APIs cache a trust's status for a few seconds, so the test
invalidates that cache instead of waiting it out.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from fathom_api import create_app as create_command_app
from fathom_infra.cli import main
from fathom_projector.trust_batch import catch_up_trust
from fathom_reports.app import create_app as create_reports_app
from fathom_shared.trusts import active_trust_ids
from tests.support import SmallTrust, bearer, poster, rows_of, token_for

DATA_QUERIES = {
    "events": "SELECT sequence, hash FROM events ORDER BY sequence",
    "rm_pupils": "SELECT pupil_id, class_id FROM rm_pupils ORDER BY pupil_id",
    "rm_judgements": "SELECT judgement_id, value FROM rm_judgements ORDER BY judgement_id",
    "pupil_personal": "SELECT pupil_id FROM pupil_personal ORDER BY pupil_id",
}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings):
    """``fathom ...`` in-process, as the owner role on the test database."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    def run(*argv: str) -> int:
        return main(list(argv))

    return run


@pytest.fixture
def apps(settings, app_engine):
    return create_command_app(settings, engine=app_engine), create_reports_app(settings, engine=app_engine)


def new_id() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_create_then_list_shows_the_trust_active(cli, capsys):
    trust_id = new_id()
    assert cli("trust", "create", trust_id, "--name", "Oakwood Learning Trust") == 0
    assert f"created trust {trust_id}" in capsys.readouterr().out
    assert cli("trust", "list") == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == ["TRUST", "STATUS", "CREATED", "NAME"]
    mine = [line for line in lines if line[0] == trust_id]
    assert len(mine) == 1 and mine[0][1] == "active" and mine[0][3] == "Oakwood Learning Trust"


def test_a_duplicate_is_exit_1_with_a_clear_message(cli, capsys):
    trust_id = new_id()
    assert cli("trust", "create", trust_id, "--name", "First") == 0
    capsys.readouterr()
    assert cli("trust", "create", trust_id, "--name", "Second") == 1
    assert capsys.readouterr().err.strip() == f"error: trust {trust_id} already exists"
    cli("trust", "list")
    assert next(line for line in capsys.readouterr().out.splitlines() if line.startswith(trust_id)).endswith("First")


@pytest.mark.parametrize("argv, message", [
    (("trust", "create", "Bad_Id"), "invalid trust id 'Bad_Id'"),
    (("trust", "suspend", "no-such-trust-x"), "error: no trust no-such-trust-x"),
    (("trust", "resume", "no-such-trust-x"), "error: no trust no-such-trust-x"),
])
def test_bad_ids_and_unknown_trusts_are_exit_1(cli, capsys, argv, message):
    assert cli(*argv) == 1
    assert message in capsys.readouterr().err


def test_a_missing_trust_id_is_a_usage_error(cli):
    with pytest.raises(SystemExit) as exit_info:
        cli("trust", "suspend")
    assert exit_info.value.code == 2


def test_suspended_trust_gets_403_from_both_apis_data_untouched_and_resume_restores(
        cli, capsys, settings, apps, app_engine: Engine):
    command_app, reports_app = apps
    trust_id = new_id()
    assert cli("trust", "create", trust_id, "--name", "Suspend Me") == 0
    leader = bearer(token_for(settings, trust_id, ["trust_leader"], sub="head"))
    commands, reports = command_app.test_client(), reports_app.test_client()
    small = SmallTrust().create(poster(commands, leader))
    judgement = {"judgements": [{"pupil_id": "p1", "objective_id": "m4-1", "value": 3,
                                 "assessed_on": "2026-10-01"}]}
    assert commands.post("/v1/judgements", json=judgement, headers=leader).status_code == 201
    catch_up_trust(app_engine, trust_id)
    analysis = f"/v1/classes/{small.class_a}/analysis"
    assert reports.get(analysis, headers=leader).status_code == 200
    before = {name: rows_of(app_engine, trust_id, sql) for name, sql in DATA_QUERIES.items()}

    def refresh_status() -> None:
        for app in apps:
            app.extensions["fathom.trust_status"].invalidate(trust_id)

    assert cli("trust", "suspend", trust_id) == 0
    assert f"trust {trust_id} is suspended" in capsys.readouterr().out
    refresh_status()
    refused = [commands.post("/v1/judgements", json=judgement, headers=leader), reports.get(analysis, headers=leader)]
    for response in refused:
        assert response.status_code == 403, response.json
        assert response.json["detail"] == "This trust is suspended."
    cli("trust", "list")
    assert f"{trust_id}\tsuspended\t" in capsys.readouterr().out
    assert {name: rows_of(app_engine, trust_id, sql) for name, sql in DATA_QUERIES.items()} == before

    assert cli("trust", "suspend", trust_id) == 0
    assert "(unchanged)" in capsys.readouterr().out
    assert cli("trust", "resume", trust_id) == 0
    refresh_status()
    assert reports.get(analysis, headers=leader).status_code == 200
    assert commands.post("/v1/judgements", json=judgement, headers=leader).status_code == 201


def test_another_trust_is_not_affected_by_a_suspension(cli, settings, apps, make_trust):
    other, suspended = make_trust("other"), new_id()
    assert cli("trust", "create", suspended) == 0
    assert cli("trust", "suspend", suspended) == 0
    for app in apps:
        app.extensions["fathom.trust_status"].invalidate()
    response = apps[1].test_client().get(
        "/v1/classes/none/analysis", headers=bearer(token_for(settings, other, ["trust_leader"])))
    assert response.status_code == 404


def test_background_work_serves_only_active_trusts(cli, owner_engine, make_trust):
    """The relay, the delivery process and the verifier all take their trusts from ``active_trust_ids``."""
    active, suspended = make_trust("busy"), new_id()
    assert cli("trust", "create", suspended) == 0
    assert cli("trust", "suspend", suspended) == 0
    served = active_trust_ids(owner_engine)
    assert active in served and suspended not in served
