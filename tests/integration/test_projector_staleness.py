"""When the projector's sweep reads a trust from the event store instead of waiting for the broker."""

from __future__ import annotations

from sqlalchemy import Engine

from fathom_projector.trust_batch import catch_up_trust, is_stale
from tests.rebuild_support import append, roster


def test_a_trust_is_stale_once_its_newest_event_is_unprojected_for_longer_than_the_grace(
        app_engine: Engine, trust: str) -> None:
    assert not is_stale(app_engine, trust, 0), "a trust without events has nothing to project"
    append(app_engine, trust, roster())
    assert is_stale(app_engine, trust, 0)
    assert not is_stale(app_engine, trust, 3600), "still within the grace period"
    catch_up_trust(app_engine, trust)
    assert not is_stale(app_engine, trust, 0), "projected up to its newest event"
