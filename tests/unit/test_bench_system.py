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


def test_the_notes_describe_the_web_services_as_started(tmp_path: Path) -> None:
    """The notes once said "reports 2 workers × 4 threads" as fixed text while the stack ran 16 threads."""
    stack = BenchSystem(tmp_path, ports={"api": 8001, "reports": 8002}, reports_threads=7)

    for name in ("api", "reports"):
        command = stack._service_spec(name)[0]
        workers, threads = (command[command.index(flag) + 1] for flag in ("--workers", "--threads"))
        assert stack.served_by(name) == f"gunicorn, {workers} workers × {threads} threads"
    assert stack.served_by("reports").endswith("× 7 threads")
