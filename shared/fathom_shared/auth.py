"""Bearer tokens: RS256 JWTs minted locally for development, verified against a JWKS.

Uses ``joserfc`` (the JOSE library behind Authlib ≥ 1.6; ``authlib.jose`` is deprecated).
Only RS256 is accepted, so ``alg: none`` and HMAC-with-the-public-key tricks fail before
any claim is read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

ROLES = frozenset({"teacher", "school_leader", "trust_leader", "auditor", "integration", "platform_admin"})
ALGORITHMS = ["RS256"]


class TokenError(Exception):
    """The token cannot be trusted; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class Principal:
    sub: str
    trust_id: str
    roles: frozenset[str]
    schools: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def load_or_create_signing_key(path: Path) -> RSAKey:
    """The development signing key; created (mode 0600) on first use."""
    write_once(path, lambda: RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": "RS256"}, private=True).as_pem(private=True).decode())
    return RSAKey.import_key(path.read_text(), parameters={"use": "sig", "alg": "RS256"})


def write_once(path: Path, content: Callable[[], str]) -> None:
    """Create a private (0600) file with ``content()`` unless it exists.

    Several processes (gunicorn workers) may start at once: the content is written to a private
    temporary file and hard-linked into place, so everyone ends up reading the same complete file.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def public_jwks(key: RSAKey) -> dict[str, Any]:
    public = key.as_dict(private=False)
    public["kid"] = key.thumbprint()
    return {"keys": [public]}


def mint_token(
    key: RSAKey,
    *,
    issuer: str,
    audience: str,
    trust: str,
    roles: Iterable[str],
    sub: str,
    schools: Iterable[str] = (),
    classes: Iterable[str] = (),
    ttl_seconds: int = 8 * 3600,
) -> str:
    roles = sorted(set(roles))
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()), "trust": trust, "roles": roles,
    }
    if schools:
        claims["schools"] = sorted(schools)
    if classes:
        claims["classes"] = sorted(classes)
    return jwt.encode({"alg": "RS256", "kid": key.thumbprint(), "typ": "JWT"}, claims, key)


class TokenVerifier:
    """Verifies tokens against a key set, refreshing it (rate-limited) on an unknown ``kid``."""

    def __init__(self, issuer: str, audience: str, key_source: Callable[[], KeySet]) -> None:
        self._registry = JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
            trust={"essential": True},
        )
        self._key_source = key_source
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            stale = refresh and time.monotonic() - self._fetched_at > 30
            if self._keys is None or stale:
                self._keys = self._key_source()
                self._fetched_at = time.monotonic()
            return self._keys

    def verify(self, token: str) -> Principal:
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=ALGORITHMS)
            except ValueError:
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=ALGORITHMS)
            self._registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenError(_describe(exc)) from exc
        claims = decoded.claims
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not set(roles) <= ROLES or not roles:
            raise TokenError("roles claim must be a non-empty list of known roles")
        trust = claims["trust"]
        if not isinstance(trust, str) or not trust:
            raise TokenError("trust claim must be a non-empty string")
        return Principal(
            sub=str(claims["sub"]),
            trust_id=trust,
            roles=frozenset(roles),
            schools=frozenset(map(str, claims.get("schools") or [])),
            classes=frozenset(map(str, claims.get("classes") or [])),
        )


def _describe(exc: Exception) -> str:
    text = getattr(exc, "description", None) or str(exc) or type(exc).__name__
    return f"invalid token: {text}"


def local_key_source(key: RSAKey) -> Callable[[], KeySet]:
    public = RSAKey.import_key(key.as_dict(private=False), parameters={"kid": key.thumbprint()})
    return lambda: KeySet([public])


def jwks_url_source(url: str) -> Callable[[], KeySet]:
    def fetch() -> KeySet:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())

    return fetch


def make_verifier(settings: Any) -> TokenVerifier:
    """Production: the issuer's JWKS URL. Development: the local signing key's public half."""
    if settings.jwks_url:
        source = jwks_url_source(settings.jwks_url)
    else:
        source = local_key_source(load_or_create_signing_key(settings.signing_key_path))
    return TokenVerifier(settings.jwt_issuer, settings.jwt_audience, source)
