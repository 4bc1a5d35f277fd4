"""The ``web`` part of ``make bench``: how fast the web app's pages paint in a real Chromium.

The full demo trust (3 schools, 42 classes × 30 pupils, ~45k judgements) is loaded through the
API as ``make run`` loads it; a teacher signs in through the development sign-in and Chromium
loads the Class Analysis page of a 30-pupil class again and again (cache kept warm, as a teacher
switching between pages would have it). "First meaningful paint" is when the frame showing the heat
map's cells has been produced (a probe installed before the page's scripts sees the cells arrive and
waits two animation frames), measured from navigation start with the page's own clock; first
contentful paint is the browser's own entry.
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
PAINT_PROBE = """
window.fathomHeatMapPainted = new Promise((resolve) => {
  // Once the heat map's cells are in the page, the second animation frame after that starts only when the
  // frame showing them has been produced: its time is when the grid was first painted.
  const observer = new MutationObserver(() => {
    if (!document.querySelector("table.heat-map td.cell")) return;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
  });
  observer.observe(document, { childList: true, subtree: true });
});
"""


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
    paints = paint_times(system.reports_url, trust, sizes.loads, chromium)
    p50, p99 = percentile(paints.meaningful, 50), percentile(paints.meaningful, 99)
    report.add(f"Class page first meaningful paint (heat map drawn: 30 pupils × {paints.objectives} objectives), "
               f"p50 / p99 ({sizes.loads} loads)", f"{ms(p50)} / {ms(p99)}", "< 1 s", p99 < 1.0)
    report.add("Class page first contentful paint; analysis JSON arrived, p50 / p99",
               f"{ms(percentile(paints.contentful, 50))} / {ms(percentile(paints.contentful, 99))}; "
               f"{ms(percentile(paints.data, 50))} / {ms(percentile(paints.data, 99))}")
    report.note("Web: Debian's Chromium driven by Playwright on the same 2 cores as PostgreSQL, the broker and every "
                f"service; reports under {system.served_by('reports')}; the page fetches one JSON view "
                "(`/v1/classes/{id}/analysis?heat_map=compact`, expanded in the page) and builds the table in the "
                "browser. Measured in the page from "
                "navigation start to the first frame produced after the heat map's cells are in the DOM.")


@dataclass(frozen=True)
class Paints:
    meaningful: list[float]
    contentful: list[float]
    data: list[float]
    """When the analysis JSON had arrived (its responseEnd), from navigation start."""
    objectives: int


def paint_times(base_url: str, trust: str, loads: int, chromium: str) -> Paints:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=base_url)
            context.add_init_script(PAINT_PROBE)
            page = context.new_page()
            page.goto(f"/sign-in?trust={trust}")
            page.select_option("#person", f"teacher:{CLASS_ID}")
            page.click("#dev-sign-in button[type=submit]")
            page.wait_for_url(f"{base_url}/")
            meaningful, contentful, data = [], [], []
            objectives = 0
            for _ in range(loads + 1):  # the first load warms the browser's cache and the server's
                page.goto(f"/classes/{CLASS_ID}", wait_until="commit")
                drawn = page.evaluate("window.fathomHeatMapPainted") / 1000
                page.wait_for_load_state("load")
                arrived = page.evaluate(
                    "performance.getEntriesByType('resource').filter(e => e.name.includes('/analysis'))"
                    ".map(e => e.responseEnd)[0] || 0") / 1000
                fcp = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)[0] || 0") / 1000
                objectives = page.locator("th.objective").count()
                meaningful.append(drawn)
                contentful.append(fcp)
                data.append(arrived)
            return Paints(meaningful[1:], contentful[1:], data[1:], objectives)
        finally:
            browser.close()
