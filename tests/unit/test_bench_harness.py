"""The benchmark's and load test's run in a home of its own: stopped and cleaned up whatever ends it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.harness import run_in


def test_a_run_that_ends_well_stops_what_it_started_and_deletes_its_home(tmp_path: Path) -> None:
    home, stopped = tmp_path / "home", []
    home.mkdir()
    with run_in(home, "benchmark", lambda: stopped.append(True), keep=False) as attempt:
        (home / "logs").mkdir()
    assert not attempt.failed and stopped == [True] and not home.exists()


def test_a_kept_home_stays(tmp_path: Path) -> None:
    with run_in(tmp_path, "benchmark", lambda: None, keep=True):
        pass
    assert tmp_path.exists()


@pytest.mark.parametrize("error", [RuntimeError("broker gone"), KeyboardInterrupt()], ids=["failure", "ctrl-c"])
def test_a_failed_or_interrupted_run_is_reported_stopped_and_keeps_its_home(tmp_path: Path, capsys, error) -> None:
    stopped = []
    with run_in(tmp_path, "load test", lambda: stopped.append(True), keep=False) as attempt:
        raise error
    assert attempt.failed and stopped == [True] and tmp_path.exists()
    assert f"load test failed: {error!r} (logs in {tmp_path / 'logs'})" in capsys.readouterr().err


def test_an_exit_goes_on_after_the_clean_up(tmp_path: Path) -> None:
    stopped = []
    with pytest.raises(SystemExit), run_in(tmp_path, "benchmark", lambda: stopped.append(True), keep=False):
        raise SystemExit(3)
    assert stopped == [True]
