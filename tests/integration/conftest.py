"""Fixtures the command-API integration tests share (a module may override any of them)."""

from __future__ import annotations

import pytest

from fathom_api import create_app
from tests.support import SmallTrust, bearer, poster, token_for


@pytest.fixture(scope="module")
def client(settings, app_engine):
    """The command API in-process, on the real database as the application role."""
    return create_app(settings, engine=app_engine).test_client()


@pytest.fixture
def leader(settings, trust):
    return bearer(token_for(settings, trust, ["trust_leader"], sub="head"))


@pytest.fixture
def small(client, leader):
    return SmallTrust().create(poster(client, leader))
