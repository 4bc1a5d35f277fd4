"""The restart policy of ``fathom up``: delays that double up to a cap, a series that a long run ends."""

from __future__ import annotations

import signal

from fathom_infra.supervisor import Backoff, describe_exit


def test_delays_double_from_the_first_up_to_the_cap() -> None:
    backoff = Backoff(first_s=1, factor=2, cap_s=30)

    assert [backoff.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_run_as_long_as_stable_after_starts_a_new_series() -> None:
    backoff = Backoff(stable_after_s=60)

    assert backoff.in_a_row_after(5, uptime_s=59.9) == 5
    assert backoff.in_a_row_after(5, uptime_s=60) == 0


def test_an_exit_is_described_by_its_code_or_its_signal() -> None:
    assert describe_exit(0) == "exit code 0"
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(-signal.SIGSEGV) == "killed by SIGSEGV"
