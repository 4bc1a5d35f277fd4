"""The append rows' median of several runs (pure): which run a row reports, and what it says of the others."""

from tests.bench.__main__ import median_run, runs_line
from tests.bench.census import Census
from tests.bench.workloads import Throughput


def _runs(*seconds: float) -> list[tuple[Throughput, Census]]:
    return [(Throughput(60_000, s), Census(wall=s)) for s in seconds]


def test_the_row_is_the_run_of_median_rate_with_its_own_census() -> None:
    runs = _runs(4.0, 6.0, 5.0)

    run, used = median_run(runs)

    assert run.seconds == 5.0
    assert used is runs[2][1]


def test_of_two_middle_runs_the_slower_is_reported() -> None:
    assert median_run(_runs(3.0, 4.0, 5.0, 6.0))[0].seconds == 5.0


def test_the_row_names_every_run_s_rate_in_the_order_run() -> None:
    assert runs_line(_runs(6.0, 4.0, 5.0)) == "median of 3 runs of 60,000 events: 10,000, 15,000, 12,000 events/s"


def test_a_single_run_reads_as_before() -> None:
    assert runs_line(_runs(4.0)) == "60,000 events in 4.0 s"
