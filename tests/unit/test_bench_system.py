"""The benchmark's clients sign in without taking the stack's CPU: the signing key is imported once, when the
stack starts, not for every session (importing the PEM takes tens of milliseconds of CPU, and clients that
signed in while a measure ran took it from the services they measured)."""

from pathlib import Path

import pytest
from joserfc.jwk import KeySet

from fathom_shared.auth import TokenVerifier, load_or_create_signing_key
from fathom_shared.config import load_settings
from tests.bench import system as bench_system
from tests.bench.system import BenchSystem


def test_a_session_token_is_signed_with_the_key_held_not_a_key_read_again(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = tmp_path / "signing-key.pem"
    stack = BenchSystem(tmp_path, settings=load_settings({"FATHOM_SIGNING_KEY": str(key_path)}),
                        signing_key=load_or_create_signing_key(key_path))

    def no_import(path: Path) -> None:
        raise AssertionError(f"the signing key was imported again from {path}")

    monkeypatch.setattr(bench_system, "load_or_create_signing_key", no_import)
    tokens = [stack.token("trust-a", sub=f"bench-writer-{n}") for n in range(3)]

    settings = stack.settings
    verifier = TokenVerifier(settings.jwt_issuer, settings.jwt_audience,
                             lambda: KeySet([stack.signing_key]))
    assert [verifier.verify(token).sub for token in tokens] == [f"bench-writer-{n}" for n in range(3)]
