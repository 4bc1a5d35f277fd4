"""Last year's class after the new school year: a leader opens it and sees the pupils who were in it, with
their codes, on its summative grid and its pupil progress meeting page.

The demo trust is shared by every browser test and must keep its classes open, so this rolls over a trust of its
own on the same running system (the small trust of the integration tests: 4A and 4B of 2026-27 into 5A).
"""

from __future__ import annotations

import uuid

import pytest
import requests
from playwright.sync_api import expect

from fathom_api.validation import school_today
from fathom_infra.local_servers import wait_until
from fathom_shared.trusts import create_trust
from tests.browser.conftest import WebSystem
from tests.support import SmallTrust, bearer, summative_grid, token_for

AT = {"academic_year": "2026-27", "point_id": "autumn-1", "subject": "maths"}
CODES = {"p1": "EXS", "p2": "WTS", "p3": "GDS"}


class Api:
    """``post(path, body)`` to the command API of the running system, as a trust leader of ``trust``."""

    def __init__(self, web: WebSystem, trust: str) -> None:
        self.url, self.headers = web.system.api, bearer(token_for(web.system.settings, trust, ["trust_leader"]))
        self.last_sequence = 0

    def __call__(self, path: str, body: dict) -> dict:
        answer = requests.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=60)
        assert answer.status_code == 201, answer.text
        self.last_sequence = max(self.last_sequence, answer.json().get("last_sequence") or 0)
        return answer.json()


@pytest.fixture(scope="module")
def rolled_over(web: WebSystem, owner_engine) -> str:
    """A trust whose 4A had codes last year, rolled over: 4A and 4B closed, everyone in 5A."""
    trust = f"web-closed-{uuid.uuid4().hex[:8]}"
    create_trust(owner_engine, trust, "Closed Class Trust")
    post = Api(web, trust)
    SmallTrust().create(post)
    post(*summative_grid("4A", AT["academic_year"], AT["point_id"], *CODES.items()))
    post("/v1/rollover", {"from_year": "2026-27", "to_year": "2027-28", "classes": {"4A": "5A", "4B": "5A"},
                          "new_classes": [{"class_id": "5A", "school_id": "sch-1", "name": "5A", "year_group": 5}],
                          "leavers": [], "effective_on": school_today().isoformat()})
    headers = bearer(token_for(web.system.settings, trust, ["trust_leader"]))
    wait_until(lambda: requests.get(f"{web.url}/v1/directory", headers=headers, timeout=30,
                                    params={"consistency": f"at_least:{post.last_sequence}"}).status_code == 200,
               60, interval=0.5, what="the roll-over projected")
    return trust


def sign_in_as_leader(page, trust: str) -> None:
    page.goto(f"/sign-in?trust={trust}")
    page.select_option("#person", "trust_leader")
    page.click("#dev-sign-in button[type=submit]")
    page.wait_for_url("**/")


def test_a_leader_opens_last_years_closed_class_and_sees_its_pupils_codes(page, rolled_over, screenshot) -> None:
    sign_in_as_leader(page, rolled_over)
    query = "&".join(f"{k}={v}" for k, v in AT.items())
    page.goto(f"/classes/4A/summative?{query}")
    cells = page.locator("td.summative-cell")
    expect(cells).to_have_count(6)  # p1–p6 were in 4A when it closed
    for pupil, code in CODES.items():
        expect(page.locator(f'td.summative-cell[data-pupil-id="{pupil}"] .current')).to_have_text(code)

    page.goto(f"/classes/4A/meeting?{query}")
    rows = page.locator("#meeting-codes tbody tr")
    expect(rows).to_have_count(6)
    for pupil, code in CODES.items():
        expect(page.locator(f'#meeting-codes tr[data-pupil-id="{pupil}"] td.code.current')).to_have_text(code)
    screenshot(page, "closed-class-meeting")
