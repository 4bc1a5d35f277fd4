"""When the projector's sweep reads a trust from the event store instead of waiting for the broker."""

from __future__ import annotations

import random

from sqlalchemy import Engine

from fathom_projector.trust_batch import catch_up_trust, is_stale, stale_trusts
from tests.rebuild_support import append, judgements, roster


def test_a_trust_is_stale_once_its_oldest_unprojected_event_waited_longer_than_the_grace(
        app_engine: Engine, trust: str) -> None:
    assert not is_stale(app_engine, trust, 0), "a trust without events has nothing to project"
    append(app_engine, trust, roster())
    assert is_stale(app_engine, trust, 0)
    assert not is_stale(app_engine, trust, 3600), "still within the grace period"
    catch_up_trust(app_engine, trust)
    assert not is_stale(app_engine, trust, 0), "projected up to its newest event"


def test_one_pass_finds_every_stale_trust_and_only_those(app_engine: Engine, make_trust) -> None:
    behind, projected, empty = make_trust("behind"), make_trust("projected"), make_trust("empty")
    for trust_id in (behind, projected):
        append(app_engine, trust_id, roster())
    catch_up_trust(app_engine, projected)
    append(app_engine, behind, judgements(random.Random(1), 5))

    found = stale_trusts(app_engine, 0)

    assert behind in found
    assert projected not in found and empty not in found
    assert stale_trusts(app_engine, 0, [projected, behind]) == [behind]
