"""Signing in through the development sign-in, the session cookie, CSRF and the security headers."""

from __future__ import annotations

import requests

from tests.browser.conftest import WebSystem


def test_a_teacher_signs_in_and_sees_only_their_classes(page, web: WebSystem, sign_in, screenshot) -> None:
    page.goto("/")
    assert "/sign-in" in page.url  # not signed in: sent to sign in, coming back afterwards
    page.select_option("#trust-choice", web.trust_id)  # choosing a trust lists its people at once
    page.wait_for_url(f"**/sign-in?trust={web.trust_id}*")
    assert page.locator("#person optgroup").first.get_attribute("label") == "Teachers"
    screenshot(page, "sign-in")
    sign_in(page, "teacher:school-a-y4A")
    chips = page.locator(".class-chip")
    chips.first.wait_for()
    assert chips.evaluate_all("els => els.map(e => e.dataset.classId)") == ["school-a-y4A"]
    assert page.locator("h1").inner_text() == "My classes"
    screenshot(page, "home-teacher")


def test_the_session_cookie_is_http_only_and_same_site(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fathom_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # invisible to scripts


def test_pages_forbid_inline_scripts(web: WebSystem) -> None:
    answer = requests.get(f"{web.url}/sign-in", timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_command_without_the_csrf_token_is_refused(page, web: WebSystem, sign_in) -> None:
    sign_in(page, "trust_leader")
    # The page's own fetch carries the token; a forged request (the cookie alone) does not.
    status = page.evaluate("""async () => (await fetch('/api/v1/schools', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({id: 'x', name: 'X'})})).status""")
    assert status == 403
    created = page.evaluate("""async () => {
        const answer = await fetch('/api/v1/schools', {method: 'POST',
            headers: {'Content-Type': 'application/json',
                      'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
            body: JSON.stringify({id: 'school-csrf', name: 'CSRF Primary'})});
        return {status: answer.status, body: await answer.json()};
    }""")
    assert created["status"] == 201
    # The system is shared: the tests after this one read pages that list the trust's schools, and a page read
    # before the new school was applied lacked a row the API (read a moment later) had.
    web.wait_applied(created["body"]["last_sequence"])
