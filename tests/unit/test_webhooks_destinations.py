"""Which addresses a webhook may call, and the fair order deliveries take (pure logic)."""

from __future__ import annotations

import ipaddress
import threading
import uuid

import pytest

from fathom_reports.webhooks.destinations import literal_address, refusal, url_refusal
from fathom_reports.webhooks.scheduling import FairQueue


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.31.0.1", "private"), ("192.168.0.1", "private"), ("fd00:ec2::254", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "private"),
    ("100.100.100.200", "non-public"), ("::ffff:10.0.0.1", "private"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("2002:a00:1::", "private"),
])
def test_non_public_addresses_are_refused_by_class(address, reason) -> None:
    assert reason in (refusal(ipaddress.ip_address(address), allow_loopback=False) or "")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "93.184.216.34"])
def test_public_addresses_are_allowed(address) -> None:
    assert refusal(ipaddress.ip_address(address), allow_loopback=False) is None


def test_allowing_loopback_allows_only_loopback() -> None:
    assert refusal(ipaddress.ip_address("127.0.0.2"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("::1"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "a private address"


@pytest.mark.parametrize("host, address", [
    ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("::1", "::1"),
    ("example.org", None),
])
def test_addresses_are_recognised_in_any_spelling(host, address) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize("url", ["http://LOCALHOST./x", "http://api.localhost/", "http://metadata.google.internal/"])
def test_names_meaning_this_machine_or_the_metadata_service_are_refused(url) -> None:
    assert url_refusal(url, allow_loopback=False)


def test_other_names_wait_for_the_connect_time_check() -> None:
    assert url_refusal("https://bi.example.org/hook", allow_loopback=False) is None


def test_turns_rotate_across_trusts() -> None:
    queue = FairQueue(per_trust=4)
    a = [uuid.uuid4() for _ in range(3)]
    b = uuid.uuid4()
    for webhook in a:
        assert queue.put("a", webhook)
    assert queue.put("b", b)
    assert not queue.put("a", a[0]), "a subscription is never queued twice"
    assert [queue.take() for _ in range(4)] == [("a", a[0]), ("b", b), ("a", a[1]), ("a", a[2])]


def test_a_subscription_in_flight_is_not_queued_again_until_done() -> None:
    queue = FairQueue(per_trust=2)
    webhook = uuid.uuid4()
    queue.put("a", webhook)
    assert queue.take() == ("a", webhook)
    assert not queue.put("a", webhook)
    queue.done("a", webhook)
    assert queue.put("a", webhook)


def test_a_trust_at_its_limit_waits_while_others_go_first() -> None:
    queue = FairQueue(per_trust=1)
    a1, a2, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    queue.put("a", a1)
    queue.put("a", a2)
    assert queue.take() == ("a", a1)
    queue.put("b", b)
    assert queue.take() == ("b", b), "trust a already has its one worker"
    taken: list[tuple[str, uuid.UUID] | None] = []
    waiter = threading.Thread(target=lambda: taken.append(queue.take()))
    waiter.start()
    queue.done("a", a1)
    waiter.join(10)
    assert taken == [("a", a2)]
    queue.close()
    assert queue.take() is None
