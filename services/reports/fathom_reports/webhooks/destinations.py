"""Where a webhook may point: public internet addresses only (no server-side request forgery).

A trust leader chooses the URL, but the platform makes the request from inside its own network: to
``169.254.169.254`` (cloud metadata and its credentials), ``127.0.0.1``, a private range or ``[::1]``
it would reach what no outsider should, and the delivery state (``last_error``) would report what it
found. So the same rule is applied twice:

- at registration, to an address written in the URL (in any spelling the resolver accepts:
  ``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``) and to names that always mean this machine
  (``localhost``) or the cloud's metadata service — a 422 naming ``url``;
- at connect time, to every address the name resolves to, once; the connection is then made to the
  address checked (:mod:`fathom_reports.webhooks.transport`), so a name that resolves differently a moment
  later (DNS rebinding) cannot slip through.

Loopback is allowed only when ``FATHOM_WEBHOOK_ALLOW_LOOPBACK`` says so (``fathom up`` and the tests,
whose receivers listen on 127.0.0.1); private, link-local, multicast, reserved and unspecified
addresses never are.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal")


class DestinationRefused(Exception):
    """The destination is not a public address; the message says which class, never more."""


def refusal(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be called (a short class name), or None if it is a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded, allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved or non-public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped ``::ffff:a.b.c.d``, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an address if it is one, in any spelling the system resolver would accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 127.1 …
    except (OSError, ValueError, UnicodeError):
        return None


def url_refusal(url: str, allow_loopback: bool) -> str | None:
    """At registration: why ``url``'s host may not be called, or None (names are checked again at connect time)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    address = literal_address(host)
    if address is not None:
        reason = refusal(address, allow_loopback)
        return f"{host} is {reason}" if reason else None
    if host in METADATA_NAMES:
        return f"{host} is the cloud metadata service"
    if (host in LOOPBACK_NAMES or host.endswith(".localhost")) and not allow_loopback:
        return f"{host} is this machine"
    return None


def vetted_addresses(host: str, port: int, allow_loopback: bool) -> list[tuple[int, tuple]]:
    """``(family, socket address)`` for every address ``host`` resolves to, all of them public, resolved once.

    Raises :class:`DestinationRefused` if any is not (a name with one private address among public ones
    is refused outright: which one a connection gets is not ours to choose), ``OSError`` if it does not resolve.
    """
    found = socket.getaddrinfo(host.rstrip("."), port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[tuple[int, tuple]] = []
    for family, _, _, _, sockaddr in found:
        reason = refusal(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]), allow_loopback)
        if reason is not None:
            raise DestinationRefused(f"destination refused: {reason}")
        addresses.append((family, sockaddr))
    if not addresses:
        raise OSError("no address")
    return addresses
