"""The collector pause is counted: overlapping sections keep it paused, the last one restores what was."""

from __future__ import annotations

import gc
import threading

from fathom_shared.gc_pause import gc_paused


def test_overlapping_sections_keep_the_collector_paused_until_the_last_ends() -> None:
    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled(), "another section is still running"
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_failing_section_still_resumes_the_collector() -> None:
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_sections_on_many_threads_leave_the_collector_on() -> None:
    inside = threading.Barrier(4)

    def section() -> None:
        with gc_paused():
            inside.wait(timeout=10)
            assert not gc.isenabled()

    threads = [threading.Thread(target=section) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
