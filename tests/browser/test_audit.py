"""Auditors in the browser: the event history and its filters, chain verification, a judgement's full
history, time travel after a correction — and a teacher refused the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem, band_short
from tests.support import bearer

CLASS_ID = "school-a-y4A"
REASON = "Moderation: agreed with the year leader after a work scrutiny"


@dataclass(frozen=True)
class Correction:
    pupil_id: str
    objective_id: str
    judgement_id: str
    old: dict[str, Any]
    new: dict[str, Any]
    sequence_before: int
    sequence: int


@pytest.fixture(scope="module")
def corrected(web: WebSystem) -> Correction:
    """A teacher judgement of a pupil in 4A, shown in the heat map, corrected to another band by a leader."""
    leader = bearer(web.token(["trust_leader"], sub="web-leader"))

    def read(path: str) -> dict[str, Any]:
        answer = requests.get(f"{web.url}{path}", headers=leader, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    analysis = read(f"/v1/classes/{CLASS_ID}/analysis")
    scales = {o["objective_id"]: o["scale"] for o in analysis["objectives"]}
    for row in analysis["heat_map"]:
        profile = read(f"/v1/pupils/{row['pupil_id']}")
        for objective in profile["objectives"]:
            cell = row["cells"].get(objective["objective_id"])
            if objective["objective_id"] not in scales or not cell or cell["source"] != "teacher":
                continue
            standing = [j for j in objective["history"] if j["source"] == "teacher" and j["status"] != "withdrawn"]
            if len(standing) == 1 and standing[0]["value"] == cell["value"] and standing[0]["status"] == "recorded":
                break
        else:
            continue
        break
    else:
        pytest.fail(f"no single teacher judgement in {CLASS_ID}'s heat map to correct")
    bands = scales[objective["objective_id"]]["bands"]
    old = next(b for b in bands if b["value"] == cell["value"])
    new = bands[0] if bands[0]["value"] != old["value"] else bands[-1]
    answer = requests.post(f"{web.system.api}/v1/judgements/{standing[0]['judgement_id']}/correction",
                           json={"value": new["value"], "reason": REASON}, headers=leader, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    sequence = answer.json()["last_sequence"]
    web.wait_applied(sequence)
    return Correction(row["pupil_id"], objective["objective_id"], standing[0]["judgement_id"], old, new,
                      analysis["sequence"], sequence)


def test_an_auditors_as_of_view_differs_from_todays_after_a_correction(page, web: WebSystem, sign_in, screenshot,
                                                                       corrected: Correction) -> None:
    assert corrected.sequence > corrected.sequence_before
    sign_in(page, "auditor")
    cell = page.locator(f'td.cell[data-pupil-id="{corrected.pupil_id}"]'
                        f'[data-objective-id="{corrected.objective_id}"]')

    page.goto(f"/classes/{CLASS_ID}?as_of={corrected.sequence_before}")
    expect(cell).to_have_attribute("data-value", str(corrected.old["value"]))
    expect(cell).to_have_text(band_short(corrected.old["label"]))
    expect(page.locator(".as-of-banner")).to_be_visible()
    screenshot(page, "class-as-of")

    page.goto(f"/classes/{CLASS_ID}")
    expect(cell).to_have_attribute("data-value", str(corrected.new["value"]))
    expect(cell).to_have_text(band_short(corrected.new["label"]))
    expect(page.locator(".as-of-banner")).to_have_count(0)


def test_the_audit_page_lists_events_shows_payloads_pages_on_and_filters_by_type(page, web: WebSystem,
                                                                                   sign_in) -> None:
    sign_in(page, "auditor")
    page.goto("/audit")
    rows = page.locator("tr.event-row")
    expect(rows).to_have_count(50)  # the first page, oldest first
    assert rows.first.get_attribute("data-sequence") == "1"
    assert len(set(rows.evaluate_all("els => els.map(e => e.dataset.type)"))) > 1

    page.locator("tr.event-row button.toggle").first.click()
    detail = page.locator("tr.event-detail").first
    expect(detail).to_be_visible()
    assert '"sequence": 1,' in detail.locator("pre.payload").inner_text()
    expect(page.locator("tr.event-row button.toggle").first).to_have_attribute("aria-expanded", "true")

    page.click("#load-more")  # the API's cursor: the next 50 after the last shown
    expect(rows).to_have_count(100)
    assert rows.nth(50).get_attribute("data-sequence") == "51"

    page.select_option("#filter-type", "ClassCreated")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r"event_type=ClassCreated"))
    expect(rows).to_have_count(len(web.demo.classes))
    assert set(rows.evaluate_all("els => els.map(e => e.dataset.type)")) == {"ClassCreated"}
    expect(page.locator("#end-of-log")).to_be_visible()
    csv = page.locator("a.export[data-format=csv]").get_attribute("href")
    assert "event_type=ClassCreated" in csv and "format=csv" in csv


def test_verify_shows_the_chain_intact(page, web: WebSystem, sign_in, screenshot) -> None:
    auditor = bearer(web.token(["auditor"], sub="web-auditor"))
    before = requests.get(f"{web.url}/v1/audit/verify", headers=auditor, timeout=60).json()
    sign_in(page, "auditor")
    page.goto("/audit?event_type=JudgementRecorded,JudgementCorrected,JudgementWithdrawn&limit=50")
    page.locator("tr.event-row").first.wait_for()
    page.click("#verify-chain")
    result = page.locator("#verify-result[role=status]")
    expect(result).to_have_attribute("data-ok", "true", timeout=60_000)
    expect(result).to_contain_text("Chain intact")
    checked = int(page.locator("#verify-events-checked").inner_text().replace(",", ""))
    assert checked >= before["events_checked"] > 0
    expect(result.locator(".hash-full")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    screenshot(page, "audit")


def test_the_judgement_history_shows_the_correction_with_its_reason(page, web: WebSystem, sign_in, screenshot,
                                                                     corrected: Correction) -> None:
    sign_in(page, "auditor")
    page.goto(f"/audit?event_type=JudgementCorrected&pupil_id={corrected.pupil_id}"
              f"&objective_id={corrected.objective_id}")
    row = page.locator(f'tr.event-row[data-sequence="{corrected.sequence}"]')
    expect(row).to_contain_text(REASON)
    row.locator("a.history-link").click()
    page.wait_for_url(f"**/audit/pupils/{corrected.pupil_id}/objectives/{corrected.objective_id}")

    recorded = page.locator('#history tr[data-action="recorded"]')
    correction = page.locator('#history tr[data-action="corrected"]')
    expect(correction).to_have_count(1)
    expect(recorded).to_have_count(1)
    expect(correction).to_have_attribute("data-sequence", str(corrected.sequence))
    expect(correction).to_contain_text(REASON)
    expect(correction).to_contain_text("web-leader")
    expect(correction.locator("td.value")).to_contain_text(f"{corrected.old['label']}")
    expect(correction.locator("td.value")).to_contain_text(f"{corrected.new['label']}")
    expect(correction.locator("code.hash")).to_be_visible()
    judgement = page.locator(f'#judgements tr[data-judgement-id="{corrected.judgement_id}"]')
    expect(judgement).to_have_attribute("data-status", "corrected")
    screenshot(page, "judgement-history")


def test_a_teacher_is_refused_the_audit_log(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "teacher:school-a-y4A")
    expect(page.locator("nav.main-nav a[href='/audit']")).to_have_count(0)
    page.goto("/audit")
    expect(page.locator("#audit-refused")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Forbidden")
    expect(page.locator("tr.event-row")).to_have_count(0)
    expect(page.locator("#verify-chain")).to_have_count(0)
