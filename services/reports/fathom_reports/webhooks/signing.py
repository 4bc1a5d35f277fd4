"""Webhook signatures: ``Fathom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The timestamp is inside the signed text, so a captured request cannot be replayed later with a
fresh timestamp, and a receiver rejects old ones (``tolerance_s``). Pure standard library, so a
receiver can copy this file without the rest of Fathom.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Fathom-Signature"
NOTICE_HEADER = "Fathom-Notice-Id"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Fathom-Signature`` header value for ``body`` sent at ``timestamp`` (now if None)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify_signature(secret: str, header: str, body: bytes, tolerance_s: float = 300,
                     now: float | None = None) -> bool:
    """True only if ``header`` signs exactly ``body`` with ``secret`` within ``tolerance_s`` of ``now``.

    Any ``v1`` entry may match (a sender rotating secrets may send several); the comparison is
    constant-time. A missing or malformed header, a tampered body, another secret or a stale
    (or far-future) timestamp all give False.
    """
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
