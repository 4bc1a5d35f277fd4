"""The whole system as separate processes, one per test module (see :mod:`tests.running_system`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fathom_shared.config import Settings
from tests.running_system import RunningSystem, running_system

__all__ = ["RunningSystem", "system"]


@pytest.fixture(scope="module")
def system(settings: Settings, test_output) -> Iterator[RunningSystem]:
    with running_system(settings, test_output / "e2e-logs") as running:
        yield running
