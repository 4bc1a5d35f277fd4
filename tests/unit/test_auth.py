"""Token verification: every way a token can be wrong is refused with a reason."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from fathom_shared.auth import TokenError, TokenVerifier, load_or_create_signing_key, local_key_source, mint_token

ISSUER, AUDIENCE = "https://issuer.example", "fathom"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return load_or_create_signing_key(tmp_path_factory.mktemp("k") / "key.pem")


@pytest.fixture(scope="module")
def verifier(key):
    return TokenVerifier(ISSUER, AUDIENCE, local_key_source(key))


def token(key, **overrides):
    args = {"issuer": ISSUER, "audience": AUDIENCE, "trust": "oak-trust", "roles": ["teacher"], "sub": "ms-reid",
            "classes": ["4A"]}
    args.update(overrides)
    return mint_token(key, **args)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_token_gives_the_principal(verifier, key):
    principal = verifier.verify(token(key, schools=["s1"]))
    assert (principal.sub, principal.trust_id, principal.roles) == ("ms-reid", "oak-trust", {"teacher"})
    assert (principal.classes, principal.schools) == ({"4A"}, {"s1"})


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"issuer": "https://evil.example"}, "iss"),
        ({"audience": "someone-else"}, "aud"),
        ({"ttl_seconds": -120}, "expired"),
    ],
)
def test_wrong_claims_are_refused(verifier, key, overrides, reason):
    with pytest.raises(TokenError, match=reason):
        verifier.verify(token(key, **overrides))


def test_a_token_signed_by_another_key_is_refused(verifier):
    other = RSAKey.generate_key(2048, private=True)
    with pytest.raises(TokenError):
        verifier.verify(token(other))


def test_alg_none_is_refused(verifier, key):
    claims = token(key).split(".")[1]
    with pytest.raises(TokenError, match="none"):
        verifier.verify(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{claims}.")


def test_hs256_signed_with_the_public_key_is_refused(verifier, key):
    _, claims, _ = token(key).split(".")
    forged = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{claims}.c2lnbmF0dXJl"
    with pytest.raises(TokenError):
        verifier.verify(forged)


def test_a_tampered_payload_is_refused(verifier, key):
    header, claims, signature = token(key).split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=="))
    payload["trust"] = "another-trust"
    with pytest.raises(TokenError):
        verifier.verify(f"{header}.{b64(payload)}.{signature}")


def test_missing_trust_claim_is_refused(key):
    verifier = TokenVerifier(ISSUER, AUDIENCE, local_key_source(key))
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": 4_000_000_000, "roles": ["teacher"]}
    no_trust = jwt.encode({"alg": "RS256", "kid": key.thumbprint()}, claims, key)
    with pytest.raises(TokenError, match="trust"):
        verifier.verify(no_trust)


def test_unknown_roles_cannot_be_minted_or_accepted(verifier, key):
    with pytest.raises(ValueError, match="unknown role"):
        token(key, roles=["superuser"])
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": 4_000_000_000, "trust": "t", "roles": ["god"]}
    with pytest.raises(TokenError, match="roles"):
        verifier.verify(jwt.encode({"alg": "RS256", "kid": key.thumbprint()}, claims, key))


def test_processes_starting_together_share_one_complete_signing_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "keys" / "signing-key.pem"
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: load_or_create_signing_key(path).thumbprint(), range(16)))
    assert len(set(keys)) == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]
