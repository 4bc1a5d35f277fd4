"""A busy loop's progress line: the sums of its units of work, at most one line an interval, nothing left out."""

from __future__ import annotations

import logging

import pytest

from fathom_projector.service import PROGRESS_LINE, batch_tally
from fathom_projector.trust_batch import TrustBatchResult
from fathom_shared.tally_log import TallyLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "tally-test"]


def tally(clock: Clock, caplog: pytest.LogCaptureFixture) -> TallyLog:
    caplog.set_level(logging.INFO, logger="tally-test")
    return TallyLog(logging.getLogger("tally-test"), "sent %(items)d items in %(visits)d visits", every_s=5.0,
                    clock=clock)


def test_the_first_unit_after_a_quiet_spell_is_logged_at_once_and_the_rest_summed(clock, caplog):
    log = tally(clock, caplog)
    log.add(items=3, visits=1)
    assert logged(caplog) == ["sent 3 items in 1 visits"]
    for _ in range(10):
        clock.now += 0.4
        log.add(items=2, visits=1)
    assert len(logged(caplog)) == 1  # 4 s since the line: all of them held
    clock.now += 1.5
    log.log_if_due()  # the loop looks again, idle
    assert logged(caplog)[1:] == ["sent 20 items in 10 visits"]


def test_nothing_is_logged_when_nothing_was_done(clock, caplog):
    log = tally(clock, caplog)
    clock.now += 60
    log.log_if_due()
    log.flush()
    assert logged(caplog) == []


def test_a_stopping_loop_logs_what_is_held_whatever_the_interval(clock, caplog):
    log = tally(clock, caplog)
    log.add(items=1, visits=1)
    clock.now += 0.1
    log.add(items=4, visits=1)
    log.flush()
    log.flush()
    assert logged(caplog) == ["sent 1 items in 1 visits", "sent 4 items in 1 visits"]


def test_the_projectors_line_has_a_value_for_each_of_its_fields():
    results = [TrustBatchResult("t1", applied=250, duplicates=3, gap_filled=True, dead_letters=["x"]),
               TrustBatchResult("t2", applied=5)]
    assert PROGRESS_LINE % batch_tally(2, results, 0.25) == (
        "projected 255 events from 2 messages in 1 batches, 0.25s busy "
        "(3 duplicates skipped, 1 gap fills, 1 dead letters)")
