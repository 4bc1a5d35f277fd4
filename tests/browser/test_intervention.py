"""The intervention page: before/after per pupil × objective as the API computes it, and ending one."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer

CLASS_ID = "school-a-y4A"


def read(web: WebSystem, path: str) -> dict[str, Any]:
    answer = requests.get(f"{web.url}{path}", headers=bearer(web.token(["trust_leader"])), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_intervention_page_shows_each_pupil_and_objective_before_and_after(page, web: WebSystem, sign_in,
                                                                              screenshot) -> None:
    analysis = read(web, f"/v1/classes/{CLASS_ID}/analysis")
    assert analysis["interventions"], "the demo starts an intervention in 4A"
    intervention_id = analysis["interventions"][0]["intervention_id"]
    impact = read(web, f"/v1/interventions/{intervention_id}")

    sign_in(page, "trust_leader")
    page.goto(f"/interventions/{intervention_id}")
    rows = page.locator("#before-after tr.impact-row")
    expect(rows).to_have_count(len(impact["rows"]))
    expect(page.locator("h1")).to_have_text(impact["intervention"]["name"])

    shown = rows.evaluate_all("""els => els.map(e => [e.dataset.pupilId, e.dataset.objectiveId,
        e.querySelector('td.before').dataset.value, e.querySelector('td.after').dataset.value,
        e.dataset.movedToSecure, e.querySelector('td.movement').textContent])""")

    def value(evidence: dict[str, Any] | None) -> str:
        return "" if evidence is None else str(evidence["value"])

    expected = [[r["pupil_id"], r["objective_id"], value(r["before"]), value(r["after"]),
                 "true" if r["moved_to_secure"] else "false"] for r in impact["rows"]]
    assert [row[:5] for row in shown] == expected
    for row, text in zip(impact["rows"], (s[5] for s in shown), strict=True):
        assert ("now secure" in text) == row["moved_to_secure"]
        if row["change"] is not None and row["change"] < 0:
            assert "↓" in text

    # Band labels as the API gives them, a link to each pupil's profile, totals per objective.
    first = impact["rows"][0]
    if first["after"]:
        expect(rows.first.locator("td.after")).to_contain_text(first["after"]["label"])
    for pupil in impact["pupils"]:
        expect(page.locator(f'#before-after a[href="/pupils/{pupil["pupil_id"]}"]')).to_have_count(1)
    expect(page.locator(".intervention-details a[href='/classes/school-a-y4A']")).to_have_count(1)
    late = [p["pupil_id"] for p in impact["pupils"] if p["joined_on"] != impact["intervention"]["start_date"]]
    assert late, "the demo adds a pupil a week after the start"
    expect(page.locator("#before-after .joined-on")).to_have_count(len(late))  # measured from that day: said so
    for pupil_id in late:
        expect(page.locator(f'#before-after tbody[data-pupil-id="{pupil_id}"] .joined-on')).to_contain_text("joined")
    for objective in impact["objectives"]:
        moved = sum(1 for r in impact["rows"] if r["objective_id"] == objective["objective_id"]
                    and r["moved_to_secure"])
        expect(page.locator(f'.per-objective tr[data-objective-id="{objective["objective_id"]}"] td.moved')
               ).to_have_attribute("data-moved-to-secure", str(moved))
    premium = impact["by_group"]["pupil_premium"]
    for split in premium:
        expect(page.locator(f'[data-dimension="pupil_premium"] tr[data-group="{split["group"]}"] td').first
               ).to_contain_text(str(split["pupils"]))
    if impact["intervention"]["ended"]:
        expect(page.locator("#end-form")).to_have_count(0)
    screenshot(page, "intervention")


def test_a_teacher_ends_a_running_intervention_and_sees_problems_next_to_the_field(page, web: WebSystem,
                                                                                   sign_in) -> None:
    analysis = read(web, f"/v1/classes/{CLASS_ID}/analysis")
    start = date.today() - timedelta(days=14)
    started = requests.post(f"{web.system.api}/v1/interventions", headers=bearer(web.token(["trust_leader"])),
                            json={"name": "Fractions catch-up", "lead": "Mr Shah",
                                  "pupil_ids": [f"{CLASS_ID}-p01", f"{CLASS_ID}-p02"],
                                  "objective_ids": [o["objective_id"] for o in analysis["objectives"][:2]],
                                  "start_date": start.isoformat()}, timeout=30)
    assert started.status_code == 201, started.text
    intervention_id = started.json()["id"]
    web.wait_applied(started.json()["last_sequence"])

    sign_in(page, f"teacher:{CLASS_ID}")
    page.goto(f"/interventions/{intervention_id}")
    expect(page.locator(".pill-running")).to_be_visible()
    expect(page.locator("#before-after tr.impact-row")).to_have_count(4)

    page.fill("#end-date", (start - timedelta(days=1)).isoformat())
    page.click("#end-form button[type=submit]")
    expect(page.locator("#end-date-error")).to_contain_text("Before the start date")
    expect(page.locator("#end-date")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#status")).to_contain_text("Invalid request")

    page.fill("#end-date", date.today().isoformat())
    page.fill("#end-outcome", "Both pupils now confident with equivalent fractions.")
    page.click("#end-form button[type=submit]")
    page.wait_for_url(re.compile(r"consistency=\d+"))
    expect(page.locator(".pill-ended")).to_be_visible()
    expect(page.locator(".intervention-details")).to_contain_text("Both pupils now confident")
    expect(page.locator("#end-form")).to_have_count(0)
    ended = read(web, f"/v1/interventions/{intervention_id}")["intervention"]
    assert ended["ended"] is True and ended["end_date"] == date.today().isoformat()
