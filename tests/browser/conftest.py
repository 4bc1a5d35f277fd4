"""Browser tests: Debian's Chromium driven by Playwright against the whole running system.

One system (every service as its own process) and one demo trust serve the whole session; each
test gets a fresh browser context (its own cookies). Skipped — with a reason ``make test`` prints —
when no Chromium is installed (``apt install chromium``; ``FATHOM_CHROMIUM`` names another binary).
Screenshots go to ``<test output>/browser/``.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from fathom_infra.demo import DemoSummary, load_demo
from fathom_infra.local_servers import wait_until
from fathom_shared.config import Settings
from fathom_shared.trusts import create_trust
from tests.running_system import RunningSystem, running_system
from tests.support import bearer, token_for

CHROMIUM = os.environ.get("FATHOM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 1024, "height": 768}
SKIP_REASON = "Chromium not installed (apt install chromium, or set FATHOM_CHROMIUM): browser tests skipped"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def band_short(label: str) -> str:
    """What a heat-map cell shows for a band (fathom.js ``bandShort``): "Secure" → "S", "Working towards" → "WT"."""
    words = [w for w in re.split(r"[\s/-]+", label) if w]
    if len(words) == 1:
        word = words[0]
        return word[:3] if word[:2] == word[:2].upper() else word[0].upper()
    return "".join(w[0].upper() for w in words)[:3]


@dataclass
class WebSystem:
    """The running system with a demo trust loaded, and how to reach it as different people."""

    system: RunningSystem
    trust_id: str
    demo: DemoSummary
    leader_token: str

    @property
    def url(self) -> str:
        return self.system.reports

    def token(self, roles: list[str], **claims) -> str:
        return token_for(self.system.settings, self.trust_id, roles, **claims)

    def wait_applied(self, sequence: int, timeout: float = 60) -> None:
        """Until the projector has applied ``sequence`` (the read models show everything up to it)."""
        def applied() -> bool:
            answer = requests.get(f"{self.url}/v1/directory", params={"consistency": f"at_least:{sequence}"},
                                  headers=bearer(self.leader_token), timeout=30)
            return answer.status_code == 200
        wait_until(applied, timeout, interval=0.5, what=f"read models at sequence {sequence}")


@pytest.fixture(scope="session")
def web(settings: Settings, owner_engine: Engine, test_output: Path) -> Iterator[WebSystem]:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    trust_id = f"web-{uuid.uuid4().hex[:8]}"
    create_trust(owner_engine, trust_id, "Browser Test Academy Trust")
    with running_system(settings, test_output / "browser-logs", FATHOM_DEV_SIGN_IN="1") as system:
        leader = token_for(settings, trust_id, ["trust_leader"], sub="demo-leader")
        demo = load_demo(system.api, leader, pupils_per_class=8, progress=False)
        web_system = WebSystem(system, trust_id, demo, leader)
        web_system.wait_applied(demo.last_sequence)
        yield web_system


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, web: WebSystem) -> Iterator:
    """A fresh context (no cookies); fails the test on any script error or CSP violation."""
    context = chromium.new_context(viewport=DESKTOP, base_url=web.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: problems.append(f"console: {message.text}")
           if message.type == "error" and "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def sign_in(web: WebSystem) -> Callable:
    """``sign_in(page, "teacher:<class_id>")``: through the development sign-in form, as a person would."""

    def do(tab, person: str) -> None:
        tab.goto(f"/sign-in?trust={web.trust_id}")
        tab.select_option("#person", person)
        tab.click("#dev-sign-in button[type=submit]")
        tab.wait_for_url(re.compile(r"^(?!.*/sign-in).*$"))

    return do


@pytest.fixture
def screenshot(test_output: Path) -> Callable:
    """``screenshot(page, "class-analysis")``: a full-page PNG under ``<test output>/browser/``."""
    folder = test_output / "browser"
    folder.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str) -> Path:
        path = folder / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take
