"""Fixtures the integration tests share: the command API in-process, and the projector's topic, group and
producer (a module may override any of them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from kafka import KafkaProducer

from fathom_api import create_app
from fathom_shared.config import Settings
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


@pytest.fixture
def projector_settings(settings: Settings) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return replace(settings, events_topic=f"projector-test.{suffix}", projector_group=f"projector-test-{suffix}")


@pytest.fixture(scope="module")
def producer(bootstrap_servers: str) -> Iterator[KafkaProducer]:
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
    yield producer
    producer.close(timeout=10)
