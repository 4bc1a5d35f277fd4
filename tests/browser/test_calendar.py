"""The assessment calendar page: every reader sees the year's points; a trust leader edits and saves them, and a
mistake is named and marked where it was made."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer


def calendar(web: WebSystem, year: str) -> dict:
    answer = requests.get(f"{web.url}/v1/calendar", params={"academic_year": year},
                          headers=bearer(web.leader_token), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_teacher_sees_the_demo_trusts_half_terms_without_an_editor(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "teacher:school-a-y4A")
    page.locator("nav.main-nav").get_by_role("link", name="Calendar").click()
    page.locator("#calendar-points").wait_for()
    year = re.search(r"\d{4}-\d{2}", page.locator("#page-title").inner_text()).group(0)
    expected = calendar(web, year)
    assert expected["default"] is False
    assert page.locator("#calendar-points tbody th").all_inner_texts() == [p["name"] for p in expected["points"]]
    expect(page.locator("#calendar-form")).to_have_count(0)


def test_a_trust_leader_sets_a_years_points_and_sees_them_saved(page, web: WebSystem, sign_in, screenshot) -> None:
    year = "2030-31"
    sign_in(page, "trust_leader")
    page.goto(f"/calendar?academic_year={year}")
    expect(page.locator("#default-note")).to_be_visible()
    rows = page.locator("#calendar-points tbody tr")
    expect(rows).to_have_count(6)
    rows.nth(0).locator("[name=name]").fill("Autumn, first half")
    rows.nth(5).get_by_role("button", name="Remove").click()
    screenshot(page, "calendar-edit")
    page.get_by_role("button", name="Save calendar").click()

    page.wait_for_url(re.compile(r"consistency=\d+"))
    expect(page.locator("#default-note")).to_have_count(0)
    expect(rows).to_have_count(5)
    expect(rows.nth(0).locator("[name=name]")).to_have_value("Autumn, first half")
    saved = calendar(web, year)
    assert saved["default"] is False
    assert [p["name"] for p in saved["points"]] == ["Autumn, first half", "Autumn 2", "Spring 1", "Spring 2",
                                                     "Summer 1"]


def test_points_out_of_order_are_named_and_marked_and_nothing_is_saved(page, web: WebSystem, sign_in) -> None:
    year = "2031-32"
    sign_in(page, "trust_leader")
    page.goto(f"/calendar?academic_year={year}")
    rows = page.locator("#calendar-points tbody tr")
    rows.nth(1).locator("[name=starts_on]").fill("2031-09-01")  # the day the first point starts
    page.get_by_role("button", name="Save calendar").click()

    expect(page.locator("#status")).to_contain_text("points.1.starts_on")
    expect(rows.nth(1).locator("[name=starts_on]")).to_have_attribute("aria-invalid", "true")
    assert calendar(web, year)["default"] is True
