"""A command runs without Flask: the executor takes the caller and the request's identity as arguments."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_api.commands.schools import create_school
from fathom_api.executor import CommandContext, execute
from fathom_api.refusals import Conflict, Forbidden
from fathom_shared.auth import Principal
from fathom_shared.db import TenantUnitOfWork


def test_a_command_runs_outside_any_request_and_its_retry_gets_the_same_answer(app_engine, trust):
    leader = Principal(sub="head", trust_id=trust, roles=frozenset({"trust_leader"}))
    context = CommandContext(leader, idempotency_key="k1", request_hash="h1", request_id="cli-1")
    body, status = execute(app_engine, context, create_school({"id": "s-cli", "name": "Northfield"}))
    assert status == 201 and body["id"] == "s-cli" and len(body["event_ids"]) == 1
    assert execute(app_engine, context, create_school({"id": "s-cli", "name": "Northfield"})) == (body, status)
    with pytest.raises(Conflict):
        execute(app_engine, CommandContext(leader, "k1", "other"), create_school({"id": "s2", "name": "Other"}))
    with TenantUnitOfWork(app_engine, trust) as uow:
        row = uow.connection.execute(text("SELECT name FROM schools WHERE school_id = 's-cli'")).one()
        meta = uow.connection.execute(text("SELECT metadata FROM events WHERE stream_id = 's-cli'")).scalar_one()
    assert row.name == "Northfield" and meta["request_id"] == "cli-1" and meta["idempotency_key"] == "k1"


def test_a_refusal_is_a_domain_error_not_an_http_answer(app_engine, trust):
    teacher = Principal(sub="t", trust_id=trust, roles=frozenset({"teacher"}))
    with pytest.raises(Forbidden) as refused:
        execute(app_engine, CommandContext(teacher), create_school({"id": "s3", "name": "No"}))
    assert refused.value.detail == "Only trust leaders and integrations create schools."
