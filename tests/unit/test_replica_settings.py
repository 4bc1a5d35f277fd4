"""Reads from a replica: the ``REPORTS_DATABASE_URL`` setting, the freshness wait's backoff, ``fathom up``'s banner.

The wait is pure logic over a position function and a listener, so a fake listener stands in for PostgreSQL
here; the same wait against a real primary and hot standby is ``tests/integration/test_replica_reads.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fathom_infra.stack import LocalStack
from fathom_reports.loading.freshness import REPLICA_FIRST_BACKOFF_S, ReadModelBehind, wait_for_position
from fathom_shared.config import load_settings
from fathom_shared.production_check import production_problems
from tests.unit.test_production_check import PRODUCTION

PRIMARY = "postgresql://postgres@db:5432/fathom"


def test_unset_reads_from_the_primary() -> None:
    assert load_settings({"DATABASE_URL": PRIMARY}).reports_database_url is None
    assert load_settings({"DATABASE_URL": PRIMARY, "REPORTS_DATABASE_URL": ""}).reports_database_url is None


def test_a_replica_url_without_a_user_reads_as_the_application_role() -> None:
    settings = load_settings({"DATABASE_URL": PRIMARY, "FATHOM_APP_DB_PASSWORD": "s3cret",
                              "REPORTS_DATABASE_URL": "postgresql://replica:5433/fathom"})
    assert settings.reports_database_url == "postgresql://fathom_app:s3cret@replica:5433/fathom"


def test_a_replica_url_with_a_user_is_taken_as_given() -> None:
    url = "postgresql://reader:pw@replica:5433/fathom"
    assert load_settings({"DATABASE_URL": PRIMARY, "REPORTS_DATABASE_URL": url}).reports_database_url == url


def test_production_refuses_a_replica_url_with_a_well_known_password() -> None:
    good = {**PRODUCTION, "REPORTS_DATABASE_URL": "postgresql://replica.internal:5432/fathom"}
    assert production_problems(load_settings(good)) == []
    weak = {**good, "REPORTS_DATABASE_URL": "postgresql://fathom_app:fathom_app@replica.internal:5432/fathom"}
    [problem] = production_problems(load_settings(weak))
    assert "REPORTS_DATABASE_URL" in problem


class FakeListener:
    """The primary's notifications as the wait sees them; records each pause it is asked to wait."""

    def __init__(self, notified: int) -> None:
        self._notified = notified
        self.pauses: list[float] = []

    def notified(self, trust_id: str) -> int:
        return self._notified

    def wait(self, trust_id: str, at_least: int, seen: int, timeout: float) -> bool:
        self.pauses.append(timeout)
        return False


def test_once_the_primary_was_notified_the_replica_is_re_read_with_a_doubling_backoff() -> None:
    """No newer notification will come for a sequence the primary already has: before, the wait slept the whole
    poll interval each time (150 ms a read behind the primary); now a few milliseconds, doubling to it."""
    positions = iter([40, 40, 40, 40, 42])
    listener = FakeListener(notified=42)
    assert wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=10, poll_interval_s=0.15) == 42
    first = REPLICA_FIRST_BACKOFF_S
    assert listener.pauses == pytest.approx([first, 2 * first, 4 * first, 8 * first])


def test_the_backoff_stops_growing_at_the_poll_interval() -> None:
    positions = iter([40] * 12 + [42])
    listener = FakeListener(notified=42)
    wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=30, poll_interval_s=0.01)
    assert max(listener.pauses) == pytest.approx(0.01)
    assert listener.pauses[-3:] == pytest.approx([0.01, 0.01, 0.01])


def test_before_any_notification_the_wait_sleeps_on_the_listener_for_the_poll_interval() -> None:
    positions = iter([40, 40, 42])
    listener = FakeListener(notified=40)
    wait_for_position(lambda: next(positions), listener, "t", 42, timeout_s=10, poll_interval_s=0.15)
    assert listener.pauses == pytest.approx([0.15, 0.15], abs=0.01)


def test_the_wait_is_bounded() -> None:
    listener = FakeListener(notified=42)
    with pytest.raises(ReadModelBehind) as behind:
        wait_for_position(lambda: 40, listener, "t", 42, timeout_s=0, poll_interval_s=0.15)
    assert (behind.value.current, behind.value.requested) == (40, 42)


def test_the_banner_names_the_read_replica(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, replica=True)
    stack.urls = {name: f"http://127.0.0.1:{port}" for name, port in (
        ("api", 8000), ("reports", 8001), ("projector", 8002), ("api-ops", 8010), ("reports-ops", 8011))}
    stack.env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/fathom",
                 "REPORTS_DATABASE_URL": "postgresql://127.0.0.1:55433/fathom",
                 "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:59092"}
    stack.tokens = {}
    [line] = [line for line in stack.banner().splitlines() if "read replica" in line]
    assert "postgresql://127.0.0.1:55433/fathom" in line and "http://127.0.0.1:8011/metrics" in line
