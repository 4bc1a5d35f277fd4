"""Leaders' summative codes, year to year (/trust/summative, /schools/<id>/summative): a trust leader opens them from
the trust page, sees the point's pooled and per-school figures and the Year 4 cohort followed back across the
demo's two years as the API gives them, then one school's per class; a school leader is refused the trust's."""

from __future__ import annotations

import re
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer


def api(web: WebSystem, path: str, **params: Any) -> dict:
    answer = requests.get(f"{web.url}{path}", params=params, headers=bearer(web.leader_token), timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def percent(tally: dict) -> str:
    value = tally["percent_at_or_above_expected"]
    if value is None:
        return "–"
    return f"{value:.1f}%" + ("*" if tally["small_group"] else "")


def assert_row(row, tally: dict) -> None:
    expect(row).to_have_attribute("data-assessed", str(tally["assessed"]))
    expect(row.locator("td.percent")).to_have_text(percent(tally))
    titles = row.locator(".bar-segment").evaluate_all("els => els.map(e => e.title)")
    expected = [f"{c['label']}: {c['count']}" for c in tally["counts"] if c["count"]]
    if tally.get("not_assessed"):
        expected.append(f"Not assessed: {tally['not_assessed']}")
    assert titles == expected


def test_a_trust_leader_reads_the_codes_and_a_cohort_year_to_year(page, web: WebSystem, sign_in, screenshot) -> None:
    sign_in(page, "trust_leader")
    page.goto("/trust?year_group=4")
    page.locator("#open-summative").click()
    expect(page).to_have_url(re.compile(r"/trust/summative\?year_group=4$"))
    page.locator("table#point-figures").wait_for()

    figures = api(web, "/v1/trust/summative", year_group=4)
    assert_row(page.locator('#point-figures tr[data-unit="pooled"]'), figures["pooled"])
    for school in figures["schools"]:
        assert_row(page.locator(f'#point-figures tr[data-unit="{school["school_id"]}"]'), school)
    assert figures["pooled"]["assessed"] > 0, "the demo's codes at its current point"

    cohort = api(web, "/v1/cohorts", year_group=4)
    shown = [p for p in cohort["points"] if p["assessed"]]
    assert {p["academic_year"] for p in shown} == {p["academic_year"] for p in cohort["points"]}, \
        "the demo's Year 4 have codes this year and last (as Year 3)"
    rows = page.locator("#cohort tbody tr")
    expect(rows).to_have_count(len(shown))
    for point in shown:
        row = page.locator(f'#cohort tr[data-point="{point["academic_year"]}/{point["point_id"]}"]')
        assert_row(row, point)
        expect(row.locator("td").first).to_have_text("Year 3" if point["year_group"] == 3 else "Year 4")
    latest = shown[-1]
    for group in latest["by_group"]:
        expect(page.locator(f'#cohort-groups tr[data-group="{group["group"]}"] td.percent').last).to_have_text(
            percent(group))
    expect(page.locator("#figures-key")).to_contain_text("no line of expected progress")
    assert page.locator("svg polyline, svg path.trend").count() == 0, "no progress line is drawn"
    screenshot(page, "cohorts")

    # One level down: a school's codes per class, for the same point and year group.
    school = figures["schools"][0]
    page.locator(f'#point-figures tr[data-unit="{school["school_id"]}"] th a').click()
    expect(page).to_have_url(re.compile(rf"/schools/{school['school_id']}/summative\?"))
    page.locator("table#point-figures").wait_for()
    per_class = api(web, f"/v1/schools/{school['school_id']}/summative", year_group=4,
                    academic_year=figures["point"]["academic_year"], point_id=figures["point"]["point_id"],
                    subject=figures["subject"])
    assert_row(page.locator('#point-figures tr[data-unit="pooled"]'), per_class["pooled"])
    expect(page.locator("#point-figures tbody tr")).to_have_count(1 + len(per_class["classes"]))


def test_a_school_leader_is_refused_the_trusts_codes(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "school_leader:school-a")
    page.goto("/trust/summative")
    expect(page.locator(".refusal")).to_have_attribute("data-status", "403")
