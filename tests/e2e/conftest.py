"""The whole system as separate processes, one per test module (see :mod:`tests.running_system`), or the compose
stack (see :mod:`tests.compose_stack`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fathom_shared.config import Settings
from tests.compose_stack import compose_mode
from tests.running_system import RunningSystem, running_system

__all__ = ["RunningSystem", "system"]


@pytest.fixture(scope="module")
def system(request: pytest.FixtureRequest, settings: Settings, test_output) -> Iterator[RunningSystem]:
    """Local processes, or with FATHOM_E2E_STACK=compose the compose stack's URLs (no processes to hold)."""
    if compose_mode():
        stack = request.getfixturevalue("compose_stack")
        yield RunningSystem(stack.api, stack.reports, settings, {}, stack.streams)
        return
    with running_system(settings, test_output / "e2e-logs") as running:
        yield running
