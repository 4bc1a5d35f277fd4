"""A counted process setting: changed by the first section, restored to what it was by the last, on any thread."""

from __future__ import annotations

import threading

from fathom_shared.process_setting import CountedSetting


class Setting:
    """A process-wide value, as ``sys.getswitchinterval`` is."""

    def __init__(self) -> None:
        self.value = "default"
        self.changes = 0

    def change(self) -> str:
        self.changes += 1
        saved, self.value = self.value, "changed"
        return saved

    def restore(self, saved: str) -> None:
        self.value = saved


def test_overlapping_sections_change_it_once_and_the_last_restores_it() -> None:
    setting = Setting()
    counted = CountedSetting(setting.change, setting.restore)
    first, second = counted.held(), counted.held()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert setting.value == "changed", "another section is still running"
    second.__exit__(None, None, None)
    assert (setting.value, setting.changes) == ("default", 1)


def test_a_failing_section_still_restores_it() -> None:
    setting = Setting()
    counted = CountedSetting(setting.change, setting.restore)
    try:
        with counted.held():
            raise ValueError("boom")
    except ValueError:
        pass
    assert setting.value == "default"


def test_sections_on_many_threads_restore_it_once_all_end() -> None:
    setting = Setting()
    counted = CountedSetting(setting.change, setting.restore)
    inside = threading.Barrier(4)
    seen: list[str] = []

    def section() -> None:
        with counted.held():
            inside.wait(timeout=10)
            seen.append(setting.value)

    threads = [threading.Thread(target=section) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["changed"] * 4
    assert (setting.value, setting.changes) == ("default", 1)
