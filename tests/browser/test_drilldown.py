"""Leaders' drill-down: trust → school → class → pupil by links alone, the numbers on each page against the
API's JSON, the trust table as CSV, refusals for a school leader, and the trust page at 1024 px."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.conftest import TABLET, WebSystem
from tests.support import bearer


def api(web: WebSystem, path: str, **params: Any) -> requests.Response:
    answer = requests.get(f"{web.url}{path}", params=params, headers=bearer(web.leader_token), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def assert_tally(cell, tally: dict[str, Any]) -> None:
    """A table cell shows the API's tally: % secure (one decimal), secure of assessed, band counts."""
    assert cell.get_attribute("data-assessed") == str(tally["assessed"])
    assert cell.get_attribute("data-pupils") == str(tally["pupils"])
    if tally["percent_secure"] is not None:
        expect(cell.locator(".bar-secure")).to_have_text(percent(tally["percent_secure"])
                                                          + ("*" if tally["small_group"] else ""))
        expect(cell.locator(".tally")).to_have_text(f"{tally['secure']} of {tally['assessed']} secure")
    titles = cell.locator(".bar-segment").evaluate_all("els => els.map(e => e.title)")
    expected = [f"{c['label']}: {c['count']}" for c in tally["counts"] if c["count"]]
    if tally["not_assessed"]:
        expected.append(f"Not assessed: {tally['not_assessed']}")
    assert titles == expected


def test_a_trust_leader_drills_down_to_a_pupil_by_links(page, web: WebSystem, sign_in, screenshot) -> None:
    sign_in(page, "trust_leader")
    page.goto("/")
    page.locator("nav.main-nav").get_by_role("link", name="Trust").click()
    page.locator('.year-tabs a[data-year-group="4"]').click()
    expect(page).to_have_url(re.compile(r"/trust\?year_group=4$"))
    page.locator("table.drill-table").wait_for()

    trust = api(web, "/v1/trust/analysis", year_group=4).json()
    objective = next(o for o in trust["objectives"] if o["pooled"]["assessed"] > 0)
    oid = objective["objective_id"]
    row = page.locator(f'table.drill-table tr[data-objective-id="{oid}"]')
    assert_tally(row.locator('td[data-unit="pooled"]'), objective["pooled"])
    for school in objective["schools"]:
        assert_tally(row.locator(f'td[data-unit="{school["school_id"]}"]'), school)
    headers = page.locator("table.drill-table thead th[data-unit-id]").evaluate_all(
        "els => els.map(e => e.dataset.unitId)")
    assert headers == [s["school_id"] for s in trust["schools"]]  # the schools side by side, in the API's order
    expect(page.locator("#crumbs")).to_contain_text("Year 4")
    screenshot(page, "trust")

    # One level down: the school's bar for this objective opens the school page for the same year group.
    row.locator('td[data-unit="school-a"] a').click()
    expect(page).to_have_url(re.compile(r"/schools/school-a\?year_group=4$"))
    school = api(web, "/v1/schools/school-a/analysis", year_group=4).json()
    row = page.locator(f'table.drill-table tr[data-objective-id="{oid}"]')
    row.wait_for()
    assert_tally(row.locator('td[data-unit="pooled"]'), next(o for o in school["objectives"]
                                                              if o["objective_id"] == oid)["pooled"])
    for klass in next(o for o in school["objectives"] if o["objective_id"] == oid)["classes"]:
        assert_tally(row.locator(f'td[data-unit="{klass["class_id"]}"]'), klass)
    expect(page.locator("h1")).to_have_text(f"{school['school']['name']} · Year 4")
    expect(page.locator('.year-tabs a[aria-current="page"]')).to_have_text("Year 4")
    screenshot(page, "school")

    # The class column's heading opens the class; a pupil's name there opens the profile.
    page.locator('table.drill-table thead th[data-unit-id="school-a-y4A"] a').click()
    expect(page).to_have_url(re.compile(r"/classes/school-a-y4A"))
    pupil_link = page.locator("table.heat-map tr[data-pupil-id] th a").first
    pupil_link.wait_for()
    pupil_id = pupil_link.evaluate("a => a.closest('tr').dataset.pupilId")
    pupil_link.click()
    expect(page).to_have_url(re.compile(rf"/pupils/{pupil_id}$"))

    profile = api(web, f"/v1/pupils/{pupil_id}").json()
    expect(page.locator("h1")).to_have_text(profile["pupil"]["name"])
    expect(page.locator(".pupil-header a.class-link")).to_have_attribute("href", "/classes/school-a-y4A")
    crumbs = page.locator("#crumbs li").all_inner_texts()
    assert crumbs == ["Trust", school["school"]["name"], "Year 4", "4A", profile["pupil"]["name"]]
    for subject in ("maths", "english"):
        judgements = [(o["objective_id"], h["judgement_id"]) for o in profile["objectives"]
                      if o["subject"] == subject for h in o["history"]]
        assert judgements, f"the demo pupil has {subject} judgements"
        chart = page.locator(f'svg.timeline[data-subject="{subject}"]')
        expect(chart.locator(".judgement-point")).to_have_count(len(judgements))
        drawn = chart.locator(".judgement-point").evaluate_all(
            "els => els.map(e => [e.dataset.objectiveId, e.dataset.judgementId])")
        assert sorted(map(tuple, drawn)) == sorted(judgements)
        label = chart.get_attribute("aria-label")
        assert f"{len(judgements)} judgement" in label
        scores = next(s for s in profile["subjects"] if s["subject"] == subject)["scores"]
        assert chart.locator(".score-point").evaluate_all("els => els.map(e => Number(e.dataset.score))") == [
            s["score"] for s in scores]
        # The table alternative: one row per objective, with its history count.
        rows = page.locator(f'.subject-panel[data-subject="{subject}"] table.timeline-table tbody tr')
        counts = rows.evaluate_all("els => els.map(e => [e.dataset.objectiveId, Number(e.dataset.history)])")
        assert counts == [[o["objective_id"], len(o["history"])] for o in profile["objectives"]
                          if o["subject"] == subject]
    spans = page.locator('svg.timeline[data-subject="maths"] .tl-intervention')
    assert spans.count() == len([i for i in profile["interventions"]
                                 if any(oid.startswith("y4-mat") for oid in i["objective_ids"])])
    screenshot(page, "pupil-profile")


def test_the_trust_table_downloads_as_the_apis_csv(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    page.goto("/trust?year_group=4")
    page.locator("#subject").select_option("maths")
    expect(page).to_have_url(re.compile(r"subject=maths"))
    with page.expect_download() as info:
        page.locator("a.csv").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))

    expected = list(csv.reader(io.StringIO(api(web, "/v1/trust/analysis", year_group=4, subject="maths",
                                               format="csv").text)))
    view = api(web, "/v1/trust/analysis", year_group=4, subject="maths").json()
    assert rows[0] == expected[0] and "percent_secure" in rows[0]
    assert rows == expected
    trust_rows = [r for r in rows[1:] if r[0] == "trust"]
    assert [r[rows[0].index("objective_id")] for r in trust_rows] == [o["objective_id"] for o in view["objectives"]]
    assert len(rows) - 1 == len(view["objectives"]) * (1 + len(view["schools"]))


def test_a_group_is_compared_with_everyone_else(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    page.goto("/trust?year_group=4&view=compare&group=pupil_premium")
    page.locator("table.compare-table").wait_for()
    expect(page.locator("#compare")).to_have_value("not_pupil_premium")
    group = api(web, "/v1/trust/analysis", year_group=4, group="pupil_premium").json()
    others = api(web, "/v1/trust/analysis", year_group=4, group="not_pupil_premium").json()
    objective = next(o for o in group["objectives"] if o["pooled"]["assessed"] > 0)
    other = next(o for o in others["objectives"] if o["objective_id"] == objective["objective_id"])
    row = page.locator(f'table.compare-table tr[data-objective-id="{objective["objective_id"]}"]')
    assert_tally(row.locator('td[data-unit="pooled"][data-side="group"]'), objective["pooled"])
    assert_tally(row.locator('td[data-unit="pooled"][data-side="other"]'), other["pooled"])
    for school, school_other in zip(objective["schools"], other["schools"], strict=True):
        assert_tally(row.locator(f'td[data-unit="{school["school_id"]}"][data-side="group"]'), school)
        assert_tally(row.locator(f'td[data-unit="{school["school_id"]}"][data-side="other"]'), school_other)
    # A group with no "not in the group" filter is set beside the whole year group, and says so.
    page.locator("#group").select_option("more_able")
    expect(page.locator("#compare")).to_have_value("all")
    expect(page.locator(".compare-note")).to_contain_text("includes the group itself")


def test_a_school_leader_is_refused_another_school_and_the_trust(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "school_leader:school-a")
    page.goto("/schools/school-b?year_group=4")
    expect(page.locator('.refusal[data-status="403"] h2')).to_have_text("You do not have access to this school")
    expect(page.locator("#status")).to_contain_text("Forbidden")
    assert page.locator(".tally-cell").count() == 0

    page.goto("/trust?year_group=4")
    expect(page.locator('.refusal[data-status="403"] h2')).to_have_text(
        "You do not have access to the trust analysis")
    assert page.locator(".tally-cell").count() == 0
    assert page.locator("nav.main-nav a", has_text="Trust").count() == 0  # not offered in the first place

    page.goto("/schools/school-a?year_group=4")  # their own school is fine
    expect(page.locator("table.drill-table td.tally-cell").first).to_be_visible()


def test_an_unknown_pupil_says_so(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    page.goto("/pupils/no-such-pupil")
    expect(page.locator('.refusal[data-status="404"] h2')).to_have_text("No such pupil")


def test_the_trust_page_fits_1024_pixels(page, web: WebSystem, sign_in) -> None:
    page.set_viewport_size(TABLET)
    sign_in(page, "trust_leader")
    for view in ("", "&view=compare&group=pupil_premium"):
        page.goto(f"/trust?year_group=4{view}")
        page.locator("table.drill-table td.tally-cell").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        scroller = page.locator(".table-scroll").first
        assert scroller.evaluate("e => getComputedStyle(e).overflowX") in ("auto", "scroll")


def test_the_timeline_shapes_each_source_and_the_history_downloads(page, web: WebSystem, sign_in) -> None:
    pupil_id, objective_id = "school-c-y5B-p02", "y5-mat-01"
    recorded = requests.post(f"{web.system.api}/v1/judgements", headers=bearer(web.leader_token), timeout=30, json={
        "judgements": [{"pupil_id": pupil_id, "objective_id": objective_id, "value": 3, "assessed_on": "2026-10-01",
                        "source": "self"},
                       {"pupil_id": pupil_id, "objective_id": objective_id, "value": 2, "assessed_on": "2026-10-08",
                        "source": "moderator"}]})
    assert recorded.status_code in (200, 201), recorded.text
    web.wait_applied(recorded.json()["last_sequence"])
    profile = api(web, f"/v1/pupils/{pupil_id}").json()

    sign_in(page, "trust_leader")
    page.goto(f"/pupils/{pupil_id}")
    chart = page.locator('svg.timeline[data-subject="maths"]')
    chart.wait_for()
    shapes = {source: chart.locator(f'.judgement-point[data-source="{source}"]').evaluate_all(
        "els => [...new Set(els.map(e => e.tagName))]") for source in ("teacher", "self", "moderator")}
    assert shapes == {"teacher": ["circle"], "self": ["path"], "moderator": ["rect"]}
    legend = page.locator('.subject-panel[data-subject="maths"] .timeline-legend').inner_text()
    assert "Moderator (none yet)" not in legend and "Pupil (self-assessment)" in legend
    row = page.locator(f'.subject-panel[data-subject="maths"] tr[data-objective-id="{objective_id}"]')
    expect(row.locator(".other-source")).to_have_count(2)
    expect(row.locator("ol.history li")).to_have_count(
        len(next(o for o in profile["objectives"] if o["objective_id"] == objective_id)["history"]))

    with page.expect_download() as info:
        page.get_by_role("link", name="Download judgement history (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    expected = list(csv.reader(io.StringIO(api(web, f"/v1/pupils/{pupil_id}", format="csv").text)))
    assert rows == expected
    assert len(rows) - 1 == sum(len(o["history"]) for o in profile["objectives"])
    with page.expect_download() as info:
        page.get_by_role("link", name="Download summative codes (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert rows == list(csv.reader(io.StringIO(api(web, f"/v1/pupils/{pupil_id}", format="csv",
                                                   table="summative").text)))
