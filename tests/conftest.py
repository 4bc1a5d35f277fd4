"""Session fixtures: a real PostgreSQL server and a real Kafka-protocol broker on free ports.

Set DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS to run against existing servers instead, or FATHOM_E2E_STACK=compose
to run against the compose stack (``make test-docker``, :mod:`tests.compose_stack`).
Each test works in its own freshly created trust, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fathom_infra.local_servers import LocalKafka, LocalPostgres
from fathom_shared.config import Settings, load_settings
from fathom_shared.db import make_engine
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.compose_stack import (  # noqa: F401 (pytest-docker's fixtures, set for the compose stack)
    compose_mode,
    compose_stack,
    docker_cleanup,
    docker_compose_command,
    docker_compose_file,
    docker_compose_project_name,
    docker_setup,
)
from tests.run_watchdog import watch_this_run

OUTPUT = Path(os.environ.get("FATHOM_TEST_OUTPUT", "test-output"))


def pytest_configure(config: pytest.Config) -> None:
    """Whatever this run starts is killed if the run ends without its clean-up (:mod:`tests.run_watchdog`)."""
    watch_this_run()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: their running system (a relay and projector serving every trust in the database)
    lives until the session ends, and must not project the trusts other tests check with their own projectors."""
    browser = Path(__file__).parent / "browser"
    items.sort(key=lambda item: browser in Path(item.fspath).parents)


@pytest.fixture(scope="session")
def test_output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT.resolve()


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated database, as the owner role."""
    if compose_mode():  # migrated by the stack's one-shot migrate service
        yield request.getfixturevalue("compose_stack").database_url
        return
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        migrate(url)
        yield url
        return
    server = LocalPostgres(tmp_path_factory.mktemp("pg") / "data", durable=False).start()
    try:
        url = server.create_database("fathom_test")
        migrate(url)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka | str]:
    """A broker the test session owns (restartable), or an existing one's bootstrap address."""
    if compose_mode():  # the stack's broker: on the compose network only, never reached by the tests
        yield "kafka:9092"
        return
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    broker = LocalKafka(tmp_path_factory.mktemp("kafka")).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def bootstrap_servers(kafka: LocalKafka | str) -> str:
    return kafka if isinstance(kafka, str) else kafka.bootstrap_servers


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest, postgres: str, bootstrap_servers: str,
             tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = load_settings({"DATABASE_URL": postgres, "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers})
    if compose_mode():  # the stack's own topic, group and signing key (tokens the tests mint verify there)
        return replace(base, signing_key_path=request.getfixturevalue("compose_stack").signing_key_path)
    return replace(
        base,
        signing_key_path=tmp_path_factory.mktemp("keys") / "signing-key.pem",
        events_topic=f"fathom.events.{uuid.uuid4().hex[:8]}",
        topic_partitions=3,
        projector_group=f"projector-{uuid.uuid4().hex[:8]}",
        webhook_allow_loopback=True,  # the webhook tests' receivers listen on 127.0.0.1
        webhook_key_path=tmp_path_factory.mktemp("keys") / "webhook-key",
    )


@pytest.fixture(scope="session")
def owner_engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_engine(settings: Settings) -> Iterator[Engine]:
    """Connects as ``fathom_app``: the role every service uses, subject to row-level security."""
    engine = make_engine(settings.app_database_url, pool_size=8)
    yield engine
    engine.dispose()


@pytest.fixture
def make_trust(owner_engine: Engine):
    def make(prefix: str = "trust") -> str:
        trust_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
        create_trust(owner_engine, trust_id, f"{prefix.title()} Academy Trust")
        return trust_id

    return make


@pytest.fixture
def trust(make_trust) -> str:
    return make_trust()
