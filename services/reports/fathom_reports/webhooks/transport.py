"""One webhook POST: to the address that was checked, within one deadline, with a generic error.

Why not ``requests``: it resolves the name again when it connects (so a check beforehand can be
outrun by DNS rebinding) and its timeout is per socket operation, so a receiver that trickles a byte
a second holds the worker for ever. Here the name is resolved once, every address is vetted
(:mod:`fathom_reports.webhooks.destinations`), and the socket is connected to the vetted address
while ``Host`` and TLS (SNI and certificate check) still use the name. A timer shuts the socket down
when the attempt's total deadline passes — resolving (given up on), connect, TLS, sending, and the
answer's status line and headers — whatever the peer is doing; the answer's body is never read.

Errors are deliberately coarse ("could not connect", "delivery failed: HTTP 500"): they are shown
to the subscription's owner, and the exception text (addresses, TLS details, resets vs timeouts)
would turn the listing into a network probe.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from urllib.parse import urlsplit

from requests.certs import where as ca_bundle

from fathom_reports.webhooks.destinations import DestinationRefused, vetted_addresses

COULD_NOT_CONNECT = "could not connect"
TIMED_OUT = "no answer in time"


class DeliveryFailed(Exception):
    """The attempt failed; ``str(exc)`` is safe to show the subscription's owner."""


def post(url: str, body: bytes, headers: Mapping[str, str], deadline_s: float, allow_loopback: bool = False) -> int:
    """POST ``body`` to ``url``; the HTTP status (redirects are not followed), or :class:`DeliveryFailed`."""
    deadline = time.monotonic() + deadline_s
    try:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        addresses = _resolve_within(host, port, allow_loopback, deadline)
    except DestinationRefused as refused:
        raise DeliveryFailed(str(refused)) from None
    except (OSError, UnicodeError, ValueError):
        raise DeliveryFailed(COULD_NOT_CONNECT) from None
    family, address = addresses[0]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cut = threading.Event()
    raw = socket.socket(family, socket.SOCK_STREAM)
    guard = raw.dup()  # shutting this down ends the connection even after TLS has taken ``raw`` over
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), _cut_off, (guard, cut))
    timer.daemon = True
    timer.start()
    connection: http.client.HTTPConnection | None = None
    try:
        raw.settimeout(max(0.001, deadline - time.monotonic()))
        raw.connect(address)
        connection = (_PinnedTLS(host, port, raw, _tls_context()) if tls else _Pinned(host, port, raw))
        connection.request("POST", target, body=body, headers=dict(headers))
        status = connection.getresponse().status
        if cut.is_set():  # the headers ended only because the deadline shut the socket: not an answer
            raise DeliveryFailed(TIMED_OUT)
        return status
    except (OSError, http.client.HTTPException, ValueError):
        raise DeliveryFailed(TIMED_OUT if cut.is_set() or time.monotonic() >= deadline else COULD_NOT_CONNECT
                             ) from None
    finally:
        timer.cancel()
        if connection is not None:
            connection.close()
        raw.close()
        guard.close()


def _resolve_within(host: str, port: int, allow_loopback: bool, deadline: float) -> list[tuple[int, tuple]]:
    """:func:`vetted_addresses`, given up on at ``deadline`` (the system resolver has no timeout of its own)."""
    outcome: list[list[tuple[int, tuple]] | BaseException] = []

    def resolve() -> None:
        try:
            outcome.append(vetted_addresses(host, port, allow_loopback))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    resolver = threading.Thread(target=resolve, name="webhook-resolve", daemon=True)
    resolver.start()
    resolver.join(max(0.0, deadline - time.monotonic()))
    if not outcome:
        raise DeliveryFailed(TIMED_OUT)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _cut_off(sock: socket.socket, cut: threading.Event) -> None:
    cut.set()
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_bundle())


class _Pinned(http.client.HTTPConnection):
    """http.client on a socket already connected to the vetted address (``Host`` is still the name)."""

    def __init__(self, host: str, port: int, sock: socket.socket) -> None:
        super().__init__(host, port)
        self._pinned = sock

    def connect(self) -> None:
        self.sock = self._pinned


class _PinnedTLS(http.client.HTTPSConnection):
    """TLS on the vetted socket; SNI and the certificate check are for the name in the URL."""

    def __init__(self, host: str, port: int, sock: socket.socket, context: ssl.SSLContext) -> None:
        super().__init__(host, port, context=context)
        self._pinned = sock

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(self._pinned, server_hostname=self.host)
