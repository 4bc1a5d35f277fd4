"""The pupil progress meeting page (/classes/<id>/meeting): a teacher opens a demo class's meeting from the class
page, sees each pupil's code beside the previous point's and the falling-behind lists as the API gives them,
records a decision naming a pupil and sees it listed; a leader sees it among the school's decisions."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from playwright.sync_api import expect

from fathom_infra.demo_cycle import Calendar as DemoCalendar
from fathom_infra.demo_cycle import meeting_points
from tests.browser.conftest import WebSystem
from tests.support import bearer

CLASS = "school-a-y4A"


def api(web: WebSystem, path: str, **params) -> dict:
    answer = requests.get(f"{web.url}{path}", params=params, timeout=60,
                          headers=bearer(web.token(["teacher"], classes=[CLASS])))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_teacher_reads_the_meeting_and_records_a_decision(page, web: WebSystem, sign_in, screenshot) -> None:
    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/classes/{CLASS}")
    page.locator("#open-meeting").click()
    page.wait_for_url(f"**/classes/{CLASS}/meeting")
    grid = api(web, f"/v1/classes/{CLASS}/summative")
    point = grid["point"]
    lists = api(web, f"/v1/classes/{CLASS}/falling-behind", academic_year=point["academic_year"],
                point_id=point["point_id"], subject=grid["subject"])

    rows = page.locator("#meeting-codes tbody tr")
    expect(rows).to_have_count(len(grid["pupils"]))
    first = grid["pupils"][0]
    expect(rows.first.locator("td.current")).to_have_text(first["code"] or "–")
    expect(rows.first.locator("td.previous")).to_have_text(first["previous_code"] or "–")
    moved = sum(1 for p in grid["pupils"] if p["moved"] in ("up", "down"))
    expect(page.locator('#meeting-codes td.change[data-moved="up"], #meeting-codes td.change[data-moved="down"]')
           ).to_have_count(moved)
    for name in ("moved_down", "below_expected_twice", "disagreement"):
        listed = page.locator(f"#falling-{name}")
        expect(listed).to_have_attribute("data-count", str(lists[name]["count"]))
        expect(listed.locator("li[data-pupil-id]")).to_have_count(len(lists[name]["pupils"]))
    if lists["moved_down"]["pupils"]:
        pupil = lists["moved_down"]["pupils"][0]
        expect(page.locator(f'#falling-moved_down li[data-pupil-id="{pupil["pupil_id"]}"] a')).to_have_attribute(
            "href", f"/pupils/{pupil['pupil_id']}")
    expect(page.locator("#gaps-title")).to_be_visible()  # the Class Analysis's panels, for the subject

    meeting = api(web, f"/v1/classes/{CLASS}/meetings/{point['academic_year']}/{point['point_id']}")
    previous = meeting["previous_meeting"]["decisions"]  # the demo's meeting at the last completed point
    shown = page.locator("#previous-meeting li.decision")
    expect(shown).to_have_count(len(previous))
    for decision in previous:
        item = page.locator(f'#previous-meeting li[data-decision-id="{decision["decision_id"]}"]')
        expect(item).to_have_attribute("data-status", decision["status"])
        if decision["intervention_id"]:
            expect(item.locator(".impact")).to_contain_text("Impact: secure")
        if decision["status"] != "reviewed":
            expect(item.locator("form.review-form")).to_have_count(1)
    before = len(meeting["decisions"])
    page.select_option("#decision-kind", "pupil_to_watch")
    page.fill("#decision-text", "Watch fractions confidence after the move down")
    page.select_option("#decision-pupils", [first["pupil_id"]])
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#status")).to_contain_text("Decision recorded.")
    recorded = page.locator("#this-decisions li.decision")
    expect(recorded).to_have_count(before + 1)
    latest = recorded.filter(has_text="Watch fractions confidence")
    expect(latest.locator(".decision-kind")).to_have_text("Pupil to watch")
    expect(latest.locator(".decision-pupils")).to_contain_text(first["name"])
    meeting = api(web, f"/v1/classes/{CLASS}/meetings/{point['academic_year']}/{point['point_id']}")
    saved = [d for d in meeting["decisions"] if d["text"] == "Watch fractions confidence after the move down"]
    assert len(saved) == 1 and saved[0]["pupil_ids"] == [first["pupil_id"]] and saved[0]["kind"] == "pupil_to_watch"
    screenshot(page, "meeting")


def test_the_demo_class_met_at_two_completed_points_and_the_later_meeting_opens_with_the_earlier(
        page, web: WebSystem, sign_in) -> None:
    """The demo's cycle: a meeting at each of the two latest completed points, codes at both (with the point
    before, so a change shows), and the later meeting's page, opened by its address, leads with the earlier
    meeting's decisions and their reviews."""
    first, second = meeting_points(DemoCalendar(date.today()))
    path = f"/v1/classes/{CLASS}/meetings"
    earlier = api(web, f"{path}/{first.academic_year}/{first.point.point_id}")
    later = api(web, f"{path}/{second.academic_year}/{second.point.point_id}")
    assert earlier["decisions"] and later["decisions"], "a meeting at each completed point"
    assert (later["previous_meeting"]["point"]["academic_year"], later["previous_meeting"]["point"]["point_id"]) == (
        first.academic_year, first.point.point_id)
    previous = later["previous_meeting"]["decisions"]
    assert [d["decision_id"] for d in previous] == [d["decision_id"] for d in earlier["decisions"]]
    assert sorted(d["status"] for d in previous) == ["overdue", "reviewed", "reviewed", "reviewed"]
    for at in (first, second):
        grid = api(web, f"/v1/classes/{CLASS}/summative", academic_year=at.academic_year,
                   point_id=at.point.point_id, subject="maths")
        coded = [p for p in grid["pupils"] if p["code"]]
        assert coded and all(p["previous_code"] for p in coded), f"codes at {at} and the point before"

    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/classes/{CLASS}/meeting?academic_year={second.academic_year}&point_id={second.point.point_id}"
              "&subject=maths")
    expect(page.locator("#meeting-point")).to_have_value(second.point.point_id)
    expect(page.locator("#previous-meeting li.decision")).to_have_count(len(previous))
    expect(page.locator('#previous-meeting li.decision[data-status="reviewed"]')).to_have_count(3)
    expect(page.locator("#this-decisions li.decision")).to_have_count(len(later["decisions"]))
    expect(page.locator("#meeting-codes tbody tr")).to_have_count(len(grid["pupils"]))


READS_BESIDE_THE_GRID = ("/falling-behind", "/meetings/", "/v1/directory", "/analysis")
ALL_ASKED = """(parts) => parts.every((part) => performance.getEntriesByType("resource")
  .some((entry) => entry.name.includes(part)))"""
"""In the page: every one of ``parts`` has been read (a resource entry appears once its answer has arrived)."""


@pytest.mark.parametrize("addressed", [False, True], ids=["defaults", "named-in-address"])
def test_the_meeting_pages_reads_do_not_wait_for_the_grid(page, web: WebSystem, sign_in, addressed) -> None:
    """With the summative grid's answer held back, the other four reads are still made and answered: the page
    knows its point and subject from its address or, without one, from the defaults it was rendered with (the
    grid's own). Released, the grid fills the page as usual."""
    grid = api(web, f"/v1/classes/{CLASS}/summative")
    place = {"academic_year": grid["point"]["academic_year"], "point_id": grid["point"]["point_id"],
             "subject": grid["subject"]}
    sign_in(page, f"teacher:{CLASS}")
    held = []
    page.route("**/v1/classes/*/summative*", lambda route: held.append(route))
    query = "?" + "&".join(f"{key}={value}" for key, value in place.items()) if addressed else ""
    page.goto(f"/classes/{CLASS}/meeting{query}", wait_until="commit")
    if not addressed:  # the page carries the grid's defaults
        main = page.locator("#main")
        expect(main).to_have_attribute("data-academic-year", place["academic_year"])
        expect(main).to_have_attribute("data-point-id", place["point_id"])
        expect(main).to_have_attribute("data-subject", place["subject"])
    page.wait_for_function(ALL_ASKED, arg=list(READS_BESIDE_THE_GRID), timeout=20_000)
    assert len(held) == 1, "the grid's read is the one held back"
    held[0].continue_()
    expect(page.locator("#meeting-codes tbody tr")).to_have_count(len(grid["pupils"]))
    expect(page.locator("#meeting-point")).to_have_value(place["point_id"])
    expect(page.locator("#falling-moved_down")).to_be_visible()
    expect(page.locator("#gaps-title")).to_be_visible()
    page.unroute("**/v1/classes/*/summative*")


def test_a_leader_sees_the_schools_decisions_with_the_overdue_marked(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "school_leader:school-a")
    page.goto("/meeting-decisions")
    answer = requests.get(f"{web.url}/v1/schools/school-a/meeting-decisions", timeout=60,
                          headers=bearer(web.token(["school_leader"], schools=["school-a"]))).json()
    items = page.locator("#decision-list li.decision")
    expect(items).to_have_count(len(answer["decisions"]))
    overdue = [d for d in answer["decisions"] if d["status"] == "overdue"]
    expect(page.locator('#decision-list li.decision[data-status="overdue"] .decision-status')).to_have_count(
        len(overdue))
    page.locator("#decisions-overdue").check()
    page.wait_for_url("**overdue=true**")
    expect(page.locator("#decision-list li.decision, p.empty")).to_have_count(max(len(overdue), 1))


def test_a_pupils_codes_across_the_years_are_on_the_profile_timeline(page, web: WebSystem, sign_in) -> None:
    """Year to year: the demo pupil's codes at last year's final point and this year's points, on the timeline's
    own time axis (a box per point, in date order) and written out beside it."""
    pupil_id = f"{CLASS}-p01"
    profile = api(web, f"/v1/pupils/{pupil_id}")
    maths = [c for c in profile["summative"] if c["subject"] == "maths"]
    assert len({c["academic_year"] for c in maths}) == 2, "the demo has last year's codes and this year's"
    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/pupils/{pupil_id}")
    chart = page.locator('svg.timeline[data-subject="maths"]')
    boxes = chart.locator("g.summative-code")
    expect(boxes).to_have_count(len(maths))
    for n, code in enumerate(maths):
        expect(boxes.nth(n)).to_have_attribute("data-code", code["code"])
        expect(boxes.nth(n)).to_have_attribute("data-academic-year", code["academic_year"])
    xs = [float(boxes.nth(n).locator("rect").get_attribute("x")) for n in range(len(maths))]
    assert xs == sorted(xs) and len(set(xs)) == len(xs), "placed along the time axis, earliest first"
    trail = page.locator('p.summative-trail[data-subject="maths"] .summative-step')
    expect(trail).to_have_count(len(maths))
    expect(trail.first).to_contain_text(maths[0]["code"])


@pytest.mark.parametrize("addressed", [False, True], ids=["defaults", "named-in-address"])
def test_the_meeting_pages_head_preloads_exactly_the_reads_its_script_makes(page, web: WebSystem, sign_in,
                                                                          addressed) -> None:
    """The page's head preloads the five reads, and the script's own reads are those very requests: each read
    goes to the server once (a URL the script built differently would be a second request), and Chromium reports
    no preload it found but could not use (a credentials mode or request that does not match)."""
    grid = api(web, f"/v1/classes/{CLASS}/summative")
    place = {"academic_year": grid["point"]["academic_year"], "point_id": grid["point"]["point_id"],
             "subject": grid["subject"]}
    sign_in(page, f"teacher:{CLASS}")
    reads: list[str] = []
    warnings: list[str] = []
    page.on("request", lambda request: reads.append(request.url) if "/v1/" in request.url else None)
    page.on("console", lambda message: warnings.append(message.text) if "preload" in message.text else None)
    query = "?" + "&".join(f"{key}={value}" for key, value in place.items()) if addressed else ""
    page.goto(f"/classes/{CLASS}/meeting{query}")
    expect(page.locator("#meeting-codes tbody tr")).to_have_count(len(grid["pupils"]))
    expect(page.locator("#gaps-title")).to_be_visible()
    expect(page.locator("#main [aria-busy]")).to_have_count(0)  # every panel filled
    preloaded = page.eval_on_selector_all('link[rel="preload"][as="fetch"]', "links => links.map((l) => l.href)")

    assert len(preloaded) == 5
    assert sorted(reads) == sorted(preloaded), "each read is requested once, by the preload the script then uses"
    page.evaluate("() => null")  # a round trip to the page: console messages sent before it have been delivered
    assert not warnings, warnings
