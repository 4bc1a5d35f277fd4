"""The ``web`` part of ``make bench``: how fast the web app's pages paint in a real Chromium.

The full demo trust (3 schools, 42 classes × 30 pupils, ~45k judgements) is loaded through the
API as ``make run`` loads it; a teacher signs in through the development sign-in and Chromium
loads the Class Analysis page of a 30-pupil class again and again (cache kept warm, as a teacher
switching between pages would have it). "First meaningful paint" is the moment the heat map's
cells are in the page, measured from navigation start with the page's own clock
(``performance.now()``); first contentful paint is the browser's own entry.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from fathom_infra.demo import load_demo
from tests.bench.report import Report, ms, percentile
from tests.bench.system import BenchSystem

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
CLASS_ID = "school-a-y4A"


@dataclass(frozen=True)
class WebSizes:
    loads: int = 40


FULL = WebSizes()
QUICK = WebSizes(loads=8)


def run(system: BenchSystem, sizes: WebSizes, report: Report, *, step: Callable[[str], None], progress: bool) -> None:
    report.part = "web"
    chromium = os.environ.get("FATHOM_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        step("web: no Chromium installed (apt install chromium): part skipped")
        return
    trust = system.create_trust("bench-web")
    step("web: loading the demo trust through the API")
    demo = load_demo(system.api_url, system.token(trust), progress=progress)
    system.wait_for(f"{trust}: projected", lambda: system.applied(trust), demo.last_sequence, 900, progress)
    step(f"web: Class Analysis page of {CLASS_ID}, {sizes.loads} loads in Chromium")
    meaningful, contentful, objectives = paint_times(system.reports_url, trust, sizes.loads, chromium)
    report.add(f"Class page first meaningful paint (heat map drawn: 30 pupils × {objectives} objectives), "
               f"p50 / p99 ({sizes.loads} loads)",
               f"{ms(percentile(meaningful, 50))} / {ms(percentile(meaningful, 99))}", "< 1 s",
               percentile(meaningful, 99) < 1.0)
    report.add("Class page first contentful paint, p50 / p99",
               f"{ms(percentile(contentful, 50))} / {ms(percentile(contentful, 99))}")
    report.note("Web: Debian's Chromium driven by Playwright on the same 2 cores as PostgreSQL, the broker and every "
                "service; reports under gunicorn (2 workers × 4 threads); the page fetches one JSON view "
                "(`/v1/classes/{id}/analysis`) and builds the table in the browser. Measured from navigation start "
                "to the heat map's cells being in the DOM.")


def paint_times(base_url: str, trust: str, loads: int, chromium: str) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, base_url=base_url)
            page.goto(f"/sign-in?trust={trust}")
            page.select_option("#person", f"teacher:{CLASS_ID}")
            page.click("#dev-sign-in button[type=submit]")
            page.wait_for_url(f"{base_url}/")
            meaningful, contentful = [], []
            objectives = 0
            for _ in range(loads + 1):  # the first load warms the browser's cache and the server's
                page.goto(f"/classes/{CLASS_ID}", wait_until="commit")
                page.wait_for_selector("table.heat-map td.cell", state="attached", timeout=30_000)
                drawn = page.evaluate("performance.now()") / 1000
                page.wait_for_load_state("load")
                fcp = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)[0] || 0") / 1000
                objectives = page.locator("th.objective").count()
                meaningful.append(drawn)
                contentful.append(fcp)
            return meaningful[1:], contentful[1:], objectives
        finally:
            browser.close()
