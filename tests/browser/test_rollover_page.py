"""The new school year page: a trust leader sees exactly what a roll-over would change before anything does; the
page is offered only to those who may roll over.

Only the dry run is pressed here (the demo trust is shared by every browser test and must keep its classes open);
the real run is tested on the real servers in ``tests/integration/test_rollover_api.py``.
"""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer, events_of


def open_classes(web: WebSystem) -> list[dict]:
    """The demo trust's open classes as the directory lists them (with their pupils on roll now)."""
    answer = requests.get(f"{web.url}/v1/directory", headers=bearer(web.leader_token), timeout=30)
    assert answer.status_code == 200, answer.text
    return [c for school in answer.json()["schools"] for c in school["classes"] if c["closed_on"] is None]


def test_a_trust_leader_sees_the_dry_run_table_first_and_nothing_changes(page, web: WebSystem, sign_in, screenshot,
                                                                         app_engine) -> None:
    before = len(events_of(app_engine, web.trust_id))
    classes = open_classes(web)
    sign_in(page, "trust_leader")
    page.locator("nav.main-nav").get_by_role("link", name="New school year").click()
    mapping = page.locator("#rollover-mapping tbody tr")
    expect(mapping).to_have_count(len(classes))
    row_4a = page.locator('#rollover-mapping tr[data-class-id="school-a-y4A"]')
    expect(row_4a.locator("[name=next]")).to_have_value("5A")
    expect(page.locator('#rollover-mapping tr[data-class-id="school-a-y6A"]')).to_contain_text("Leave the school")
    expect(page.locator("#rollover-run")).to_be_hidden()

    page.get_by_role("button", name="Show what will change").click()
    counts = page.locator("#rollover-counts")
    expect(counts).to_be_visible()
    leave = sum(c["pupils"] for c in classes if c["year_group"] == 6)  # the demo's schools end at Year 6
    stay = sum(c["pupils"] for c in classes) - leave
    expect(counts).to_contain_text(f"{stay} pupils move up, {leave} leave, {len(classes)} of last year's classes "
                                   "closed")
    first = page.locator('#rollover-changes tr[data-from="school-a-y4A"]')
    expect(first).to_contain_text("4A")
    expect(first).to_contain_text("5A")
    expect(first).to_contain_text("Year 5")
    expect(page.locator("#rollover-run")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Nothing has changed yet")
    screenshot(page, "rollover-dry-run")
    assert len(events_of(app_engine, web.trust_id)) == before, "a dry run appends nothing"
    assert open_classes(web) == classes


def test_a_refused_roll_over_is_named_and_offers_no_button(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    page.goto("/rollover")
    page.locator("#rollover-effective").fill("2099-09-01")
    page.get_by_role("button", name="Show what will change").click()
    expect(page.locator("#status")).to_contain_text("effective_on")
    expect(page.locator("#status")).to_contain_text("Must not be in the future.")
    expect(page.locator("#rollover-run")).to_be_hidden()


def test_a_teacher_is_not_offered_the_page(page, sign_in) -> None:
    sign_in(page, "teacher:school-a-y4A")
    expect(page.locator("nav.main-nav").get_by_role("link", name="New school year")).to_have_count(0)
    page.goto("/rollover")
    expect(page.locator("#rollover-refused")).to_be_visible()
