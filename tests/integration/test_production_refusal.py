"""The real entry points refuse development settings under ``FATHOM_ENV=production``: a non-zero exit and a
message naming what to set, before any connection is tried (no database or broker is running for these).

Before the production check existed, each of these started (and the workers went on to retry a database that
is not there) instead of exiting.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fathom_infra.processes import python_module

UNSAFE = {"FATHOM_ENV": "production", "FATHOM_DEV_SIGN_IN": "1"}
"""Everything else left at its development default."""
EXPECTED = ("FATHOM_DEV_SIGN_IN", "FATHOM_JWKS_URL", "FATHOM_APP_DB_PASSWORD", "FATHOM_WEB_SECRET",
            "FATHOM_PUBLIC_URL")


def environment(tmp_path) -> dict[str, str]:
    """This process's environment without any Fathom setting, so the defaults apply; keys land in tmp_path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FATHOM_") and k not in ("DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    return {**env, **UNSAFE, "FATHOM_SIGNING_KEY": str(tmp_path / "key.pem"),
            "FATHOM_WEB_SECRET_FILE": str(tmp_path / "web-secret"), "PYTHONUNBUFFERED": "1"}


def refused_start(tmp_path, service: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` on the unsafe settings: it must exit non-zero, naming the service and every variable to set."""
    result = subprocess.run(argv, env=environment(tmp_path), capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode != 0
    assert f"refusing to start {service} with FATHOM_ENV=production" in result.stderr
    for variable in EXPECTED:
        assert variable in result.stderr, variable
    return result


@pytest.mark.parametrize(("service", "argv"), [
    ("projector", python_module("fathom_projector")),
    ("relay", python_module("fathom_relay")),
    ("delivery", python_module("fathom_delivery")),
    ("verifier", python_module("fathom_verifier")),
])
def test_worker_entry_points_exit_with_the_message(tmp_path, service: str, argv: list[str]) -> None:
    result = refused_start(tmp_path, service, argv)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("service", "app"), [
    ("api", "fathom_api.wsgi:app"), ("reports", "fathom_reports.wsgi:app"),
    ("reports-stream", "fathom_reports.stream_wsgi:app")])
def test_gunicorn_fails_to_boot_with_the_message(tmp_path, service: str, app: str) -> None:
    """The app factory raises, so gunicorn's worker fails to boot and gunicorn stops (no respawn loop)."""
    argv = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", app]
    refused_start(tmp_path, service, argv)
    assert not (tmp_path / "key.pem").exists() and not (tmp_path / "web-secret").exists()
