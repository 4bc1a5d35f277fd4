"""The report for parents in Chromium: reached from the pupil profile, the teacher writes the comment on the page,
the report says strengths and next steps in the curriculum's words with no codes or band labels, prints to a PDF
holding the report alone (the print stylesheet: no navigation, no buttons), and fits a phone's width."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from pypdf import PdfReader

from fathom_infra.demo_cycle import Calendar
from tests.browser.conftest import WebSystem
from tests.support import bearer

CLASS = "school-a-y4A"
PUPIL = f"{CLASS}-p01"
SCIENCE = {  # objective id: (what parents read, band judged or None when taught but not judged)
    "y4-sci-plants": ("Identify and describe the parts of a flowering plant", 4),
    "y4-sci-circuits": ("Construct a simple series electrical circuit", 2),
    "y4-sci-sound": ("Find patterns between the pitch of a sound and the object that made it", None),
}
SUMMATIVE_WORDS = "Working at the expected standard for the year"  # EXS on the trust's (default) scale
COMMENT = "Asks thoughtful questions in science and explains their reasoning clearly."
PHONE = {"width": 375, "height": 740}
BAND_LABELS = ("Emerging", "Developing", "Mastery")


def command(web: WebSystem, path: str, body: dict) -> dict:
    answer = requests.post(f"{web.system.api}{path}", json=body, headers=bearer(web.leader_token), timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def science(web: WebSystem) -> tuple[str, str]:
    """Three Year 4 science objectives in plain words, two taught to 4A in the first half term and judged for the
    pupil (one secure, one not), one never taught, and the pupil's summative code in science at the point;
    the (academic year, point) the report is for."""
    calendar = Calendar(date.today())
    day = calendar.autumn1_point.isoformat()  # inside the demo trust's Autumn 1 (from the first day of term)
    for n, (objective_id, (text, _)) in enumerate(SCIENCE.items()):
        command(web, "/v1/objectives", {"id": objective_id, "code": f"Y4SC{n + 1:02d}", "subject": "science",
                                        "year_group": 4, "strand": "working scientifically", "text": text,
                                        "scale_id": "esdm"})
    command(web, "/v1/objectives-taught", {"class_id": CLASS, "objective_ids": ["y4-sci-plants", "y4-sci-circuits"],
                                           "taught_on": day})
    answer = command(web, "/v1/judgements", {"judgements": [
        {"pupil_id": PUPIL, "objective_id": objective_id, "value": value, "assessed_on": day}
        for objective_id, (_, value) in SCIENCE.items() if value is not None]})
    answer = command(web, f"/v1/classes/{CLASS}/summative", {
        "academic_year": calendar.academic_year, "point_id": "autumn-1", "subject": "science",
        "entries": [{"pupil_id": PUPIL, "code": "EXS"}]})
    web.wait_applied(answer["last_sequence"])
    return calendar.academic_year, "autumn-1"


def normalised(text: str) -> str:
    """Text as read, whatever the line breaks and ligatures (a PDF may hold "ﬂ" for "fl")."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def internal_codes(web: WebSystem) -> list[str]:
    """Every objective code the pupil's profile knows: none may reach a parent."""
    profile = requests.get(f"{web.url}/v1/pupils/{PUPIL}", headers=bearer(web.leader_token), timeout=30).json()
    return [objective["code"] for objective in profile["objectives"]]


def test_a_teacher_writes_the_comment_and_prints_the_report(page, web: WebSystem, science, sign_in, screenshot,
                                                            test_output: Path) -> None:
    year, point = science
    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/pupils/{PUPIL}")
    page.locator("#parent-report-link").click()
    expect(page).to_have_url(re.compile(rf"/pupils/{PUPIL}/report\?academic_year=\d{{4}}-\d{{2}}&point_id="))
    page.goto(f"/pupils/{PUPIL}/report?academic_year={year}&point_id={point}")
    page.locator("#comment").fill(COMMENT)
    page.get_by_role("button", name="Save comment").click()
    page.wait_for_url(re.compile(r"consistency=\d+"))
    expect(page.locator(".report-comment")).to_contain_text(COMMENT)

    science_section = page.locator('.report-subject[data-subject="science"]')
    expect(science_section.locator(".summative")).to_have_text(f"Overall: {SUMMATIVE_WORDS}.")
    strengths, next_steps = science_section.locator("ul.statements").all()
    assert strengths.locator("li").all_inner_texts() == [SCIENCE["y4-sci-plants"][0]]
    assert next_steps.locator("li").all_inner_texts() == [SCIENCE["y4-sci-circuits"][0]]
    report_text = normalised(page.locator("#report").inner_text())
    assert SCIENCE["y4-sci-sound"][0] not in report_text  # never taught: neither a strength nor a next step
    codes = internal_codes(web)
    assert "Y4SC01" in codes
    assert [code for code in codes if code in report_text] == []
    assert "EXS" not in report_text
    assert [label for label in BAND_LABELS if label in report_text] == []
    expect(page.locator("#report .band")).to_have_count(0)
    screenshot(page, "parent-report")

    pdf = page.pdf(format="A4", print_background=False)  # rendered with the print stylesheet
    (test_output / "browser" / "parent-report.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    printed = normalised(" ".join(p.extract_text() for p in reader.pages))
    for text in (SCIENCE["y4-sci-plants"][0], SCIENCE["y4-sci-circuits"][0], COMMENT, SUMMATIVE_WORDS,
                 "Strengths", "Next steps", "Teacher's comment", "Autumn 1"):
        assert text in printed, text
    for screen_only in ("Download PDF", "Save comment", "Sign out", "Back to the pupil profile", "Calendar"):
        assert screen_only not in printed, screen_only
    assert [code for code in [*codes, "EXS"] if code in printed] == []


def test_the_report_fits_a_phone(page, web: WebSystem, science, sign_in, screenshot) -> None:
    year, point = science
    page.set_viewport_size(PHONE)
    sign_in(page, "trust_leader")  # the widest top bar: every menu entry
    page.goto(f"/pupils/{PUPIL}/report?academic_year={year}&point_id={point}")
    page.locator('.report-subject[data-subject="science"]').wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wider = page.evaluate(f"""[...document.querySelectorAll('#main *')]
        .filter((e) => e.getBoundingClientRect().right > {PHONE['width']} + 1)
        .map((e) => e.tagName + '.' + e.className)""")
    assert wider == []
    screenshot(page, "parent-report-phone")


def test_an_unknown_point_is_explained(page, web: WebSystem, science, sign_in) -> None:
    year, _ = science
    sign_in(page, "trust_leader")
    page.goto(f"/pupils/{PUPIL}/report?academic_year={year}&point_id=autumn-9")
    expect(page.locator(".refusal")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("query.point_id")
