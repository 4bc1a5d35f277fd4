"""Webhook signatures: what verifies and what does not."""

from __future__ import annotations

from fathom_reports.webhooks.signing import sign, verify_signature

SECRET = "whsec_test"
BODY = b'{"notice_id":1,"model":"pupils"}'


def test_a_fresh_signature_of_the_body_verifies() -> None:
    assert verify_signature(SECRET, sign(SECRET, BODY, timestamp=1_000), BODY, now=1_100)


def test_a_tampered_body_or_another_secret_fails() -> None:
    header = sign(SECRET, BODY, timestamp=1_000)
    assert not verify_signature(SECRET, header, BODY.replace(b"1", b"2"), now=1_000)
    assert not verify_signature("whsec_other", header, BODY, now=1_000)


def test_stale_or_future_timestamps_fail() -> None:
    header = sign(SECRET, BODY, timestamp=1_000)
    assert not verify_signature(SECRET, header, BODY, now=1_301)
    assert not verify_signature(SECRET, header, BODY, now=699)
    assert verify_signature(SECRET, header, BODY, tolerance_s=1_000, now=1_900)


def test_the_timestamp_is_signed_too() -> None:
    signature = sign(SECRET, BODY, timestamp=1_000).split(",")[1]
    assert not verify_signature(SECRET, f"t=1200,{signature}", BODY, now=1_200)


def test_malformed_headers_fail_and_any_v1_may_match() -> None:
    good = sign(SECRET, BODY, timestamp=1_000).split(",")[1]
    for header in ("", "t=1000", good, "t=abc," + good, "garbage"):
        assert not verify_signature(SECRET, header, BODY, now=1_000)
    assert verify_signature(SECRET, f"t=1000,v1=deadbeef,{good}", BODY, now=1_000)
