"""A school's pupil progress meeting page (/schools/<id>/meeting): a leader opens it from the school page and sees
each class's codes with the change since the point before, the school's falling-behind lists and the decisions due,
overdue and recorded as the API gives them for the demo; at the demo's completed meeting point the page lists
every class meeting's decisions, each leading to its class's meeting. A teacher is refused."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer

SCHOOL = "school-a"


def api(web: WebSystem, path: str, **params) -> dict:
    answer = requests.get(f"{web.url}{path}", params=params, timeout=60,
                          headers=bearer(web.token(["school_leader"], schools=[SCHOOL])))
    assert answer.status_code == 200, answer.text
    return answer.json()


def expect_decisions(page, holder: str, decisions: list[dict]) -> None:
    items = page.locator(f"#{holder} li.decision")
    expect(items).to_have_count(len(decisions))
    for decision in decisions:
        item = page.locator(f'#{holder} li[data-decision-id="{decision["decision_id"]}"]')
        expect(item).to_have_attribute("data-status", decision["status"])
        if decision["class_id"]:
            expect(item.locator("a.class-meeting-link")).to_have_attribute(
                "href", f"/classes/{decision['class_id']}/meeting?academic_year={decision['academic_year']}"
                f"&point_id={decision['point_id']}")


def test_a_leader_reads_the_schools_meeting(page, web: WebSystem, sign_in, screenshot) -> None:
    sign_in(page, f"school_leader:{SCHOOL}")
    page.goto(f"/schools/{SCHOOL}")
    page.locator("#open-school-meeting").click()
    page.wait_for_url(f"**/schools/{SCHOOL}/meeting")
    meeting = api(web, f"/v1/schools/{SCHOOL}/meeting")
    point = meeting["point"]
    at = {"academic_year": point["academic_year"], "point_id": point["point_id"], "subject": meeting["subject"]}
    lists = api(web, f"/v1/schools/{SCHOOL}/falling-behind", **at)

    rows = page.locator("#school-change tbody tr")
    expect(rows).to_have_count(len(meeting["classes"]) + 1)
    assert meeting["pooled"]["now"]["assessed"] > 0, "the demo has codes at today's point"
    for unit, part in (("pooled", meeting["pooled"]), *((c["class_id"], c) for c in meeting["classes"])):
        row = page.locator(f'#school-change tr[data-unit="{unit}"]')
        expect(row).to_have_attribute("data-assessed", str(part["now"]["assessed"]))
        for name, css in (("up", "moved-up"), ("same", "moved-same"), ("down", "moved-down"),
                          ("not_compared", "not-compared")):
            expect(row.locator(f"td.{css}")).to_have_text(str(part["moved"][name]))
        now = part["now"]
        expect(row.locator("td.now")).to_contain_text(f"{now['at_or_above_expected']} of {now['assessed']}")
    first = meeting["classes"][0]
    expect(page.locator(f'#school-change tr[data-unit="{first["class_id"]}"] a.class-meeting-link')).to_have_attribute(
        "href", f"/classes/{first['class_id']}/meeting?academic_year={point['academic_year']}"
        f"&point_id={point['point_id']}&subject={meeting['subject']}")

    for name in ("moved_down", "below_expected_twice", "disagreement"):
        listed = page.locator(f"#falling-{name}")
        expect(listed).to_have_attribute("data-count", str(lists[name]["count"]))
        expect(listed.locator("li[data-pupil-id]")).to_have_count(len(lists[name]["pupils"]))

    assert meeting["due_here"] and meeting["overdue"], "the demo's meeting left decisions due now and overdue"
    expect_decisions(page, "school-due", meeting["due_here"])
    expect_decisions(page, "school-overdue", meeting["overdue"])
    expect(page.locator('#school-overdue li.decision[data-status="overdue"]')).to_have_count(len(meeting["overdue"]))
    expect_decisions(page, "school-decisions", meeting["decisions"])
    screenshot(page, "school-meeting")


def test_the_demos_completed_meeting_lists_every_class_meetings_decisions(page, web: WebSystem, sign_in) -> None:
    sign_in(page, f"school_leader:{SCHOOL}")
    page.goto(f"/schools/{SCHOOL}/meeting")
    points = [p["point_id"] for p in api(web, f"/v1/schools/{SCHOOL}/meeting")["points"]]

    def held(point_id: str) -> bool:
        """Every class's meeting recorded decisions at the point (another test may add one at today's)."""
        meeting = api(web, f"/v1/schools/{SCHOOL}/meeting", point_id=point_id)
        return {d["class_id"] for d in meeting["decisions"]} == {c["class_id"] for c in meeting["classes"]}

    done = next(p for p in reversed(points) if held(p))
    page.select_option("#meeting-point", done)
    page.wait_for_url(f"**point_id={done}**")
    meeting = api(web, f"/v1/schools/{SCHOOL}/meeting", point_id=done)
    recorded = [klass["decisions"]["recorded"] for klass in meeting["classes"]]
    assert min(recorded) >= 2 and sum(recorded) == len(meeting["decisions"]), "the demo records two or more per meeting"
    expect_decisions(page, "school-decisions", meeting["decisions"])
    for klass in meeting["classes"]:
        expect(page.locator(f'#school-change tr[data-unit="{klass["class_id"]}"] td.decision-counts')).to_contain_text(
            f"{klass['decisions']['recorded']} recorded")


def test_the_leaders_decisions_page_links_to_the_schools_meeting(page, web: WebSystem, sign_in) -> None:
    sign_in(page, f"school_leader:{SCHOOL}")
    page.goto("/meeting-decisions")
    page.locator(f'#school-meeting-links a[data-school-id="{SCHOOL}"]').click()
    page.wait_for_url(f"**/schools/{SCHOOL}/meeting")
    expect(page.locator("#school-change")).to_be_visible()


def test_a_teacher_is_refused(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "teacher:school-a-y4A")
    page.goto(f"/schools/{SCHOOL}/meeting")
    refusal = page.locator("#school-meeting-refused")
    expect(refusal).to_have_attribute("data-status", "403")
    expect(refusal).to_contain_text("for its leaders")
    expect(page.locator("#school-change")).to_have_count(0)
