"""The end-to-end tests against docker-compose.yml instead of local processes (``make test-docker``).

With ``FATHOM_E2E_STACK=compose`` the session's ``postgres``, ``kafka`` and ``settings`` fixtures and the e2e
``system`` fixture come from a compose stack that ``pytest-docker`` starts (``up --build --wait``) and removes
(``down -v``) around the session: the tests reach the API, reports and streams at the ports the stack
publishes, and the primary PostgreSQL (which the tests use to create trusts, as the owner role) through a
loopback-only port that ``tests/docker-compose.e2e.yml`` adds for the tests alone. Tokens are signed with
the stack's own development key, read from the API container. ``FATHOM_COMPOSE_HA=1`` adds the three-broker
override.

Only tests that need nothing but HTTP, tokens and the database run this way (the list is ``COMPOSE_E2E`` in
the Makefile): the others stop, kill or read the logs of processes the test started, or read Kafka directly,
which the compose network does not expose.

``python -m tests.compose_stack`` says whether a container engine answers, and exits 1 if not.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.compose_support import COMPOSE_FILE, HA_FILE, REQUIRED_SECRETS, ROOT, compose_binary

STACK_VARIABLE = "FATHOM_E2E_STACK"
E2E_OVERRIDE = ROOT / "tests" / "docker-compose.e2e.yml"
PUBLIC_PORTS = {"api": ("FATHOM_API_PORT", 8000), "reports": ("FATHOM_REPORTS_PORT", 8001),
                "streams": ("FATHOM_STREAM_PORT", 8003)}


def compose_mode() -> bool:
    """True when the e2e tests are to run against the compose stack."""
    return os.environ.get(STACK_VARIABLE) == "compose"


def engine_problem() -> str | None:
    """Why no container engine can run the stack here, or None when one answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "there is no `docker` command on PATH"
    try:
        result = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                                timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if result.returncode != 0 or not result.stdout.strip():
        said = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"`docker info` reaches no container engine ({said})"
    return None


@dataclass(frozen=True)
class ComposeStack:
    api: str
    reports: str
    streams: str
    database_url: str
    """The primary, as the owner role (the tests create trusts with it)."""
    signing_key_path: Path
    """A copy of the stack's development signing key: tokens the tests mint verify there."""


def compose_files() -> list[Path]:
    ha = [HA_FILE] if os.environ.get("FATHOM_COMPOSE_HA") == "1" else []
    return [COMPOSE_FILE, *ha, E2E_OVERRIDE]


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    """The static Compose binary ``make install`` puts in ``.venv-compose`` (the same one the suite validates
    the file with), else the docker CLI's plugin."""
    binary = compose_binary()
    return shlex.quote(binary) if binary else "docker compose"


@pytest.fixture(scope="session")
def docker_compose_file() -> list[str]:
    return [str(path) for path in compose_files()]


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"fathom-e2e-{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    """Secrets nobody knows and free host ports for this run, then build, start and wait until healthy."""
    from fathom_infra.local_servers import free_port  # only here: importing it loads the local servers' setup

    for name in REQUIRED_SECRETS:
        os.environ.setdefault(name, secrets.token_hex(24))
    for variable, _ in PUBLIC_PORTS.values():
        os.environ.setdefault(variable, str(free_port()))
    os.environ.setdefault("FATHOM_STREAM_PUBLIC_URL", f"http://127.0.0.1:{os.environ['FATHOM_STREAM_PORT']}")
    return ["up --build --detach --wait"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    """Containers and volumes removed (FATHOM_COMPOSE_KEEP=1 keeps them to look at after a failure)."""
    return [] if os.environ.get("FATHOM_COMPOSE_KEEP") == "1" else ["down --volumes --remove-orphans"]


def ready(url: str) -> bool:
    try:
        return requests.get(url + "/readyz", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def run_in_stack(command: str, files: list[str], project: str, *args: str) -> str:
    """``docker compose -f … -p project ARGS`` (what pytest-docker runs), its standard output."""
    words = [*shlex.split(command), *(w for f in files for w in ("-f", f)), "-p", project, *args]
    result = subprocess.run(words, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def compose_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeStack]:
    problem = engine_problem()
    if problem is not None:
        pytest.fail(f"{STACK_VARIABLE}=compose needs a running container engine, and {problem}.", pytrace=False)
    services: Any = request.getfixturevalue("docker_services")
    host = request.getfixturevalue("docker_ip")
    urls = {name: f"http://{host}:{services.port_for(name, port)}" for name, (_, port) in PUBLIC_PORTS.items()}
    services.wait_until_responsive(check=lambda: all(ready(url) for url in urls.values()), timeout=300, pause=1)
    files, project = request.getfixturevalue("docker_compose_file"), request.getfixturevalue(
        "docker_compose_project_name")
    key = tmp_path_factory.mktemp("compose-keys") / "signing-key.pem"
    key.write_text(run_in_stack(request.getfixturevalue("docker_compose_command"), files, project,
                                "exec", "-T", "api", "cat", "/var/lib/fathom/keys/signing-key.pem"))
    key.chmod(0o600)
    password = os.environ.get("POSTGRES_PASSWORD", "fathom")
    database = f"postgresql://postgres:{password}@{host}:{services.port_for('postgres', 5432)}/fathom"
    yield ComposeStack(urls["api"], urls["reports"], urls["streams"], database, key)


def main() -> int:
    problem = engine_problem()
    if problem is None:
        print("container engine found: running the end-to-end tests against docker-compose.yml")
        return 0
    print(f"make test-docker: {problem}.\n"
          "It starts docker-compose.yml with a container engine (Docker or Podman with its Docker socket) and\n"
          "runs the end-to-end tests against it; none runs on this machine, so nothing was started or tested.\n"
          "`make test` runs the same end-to-end tests against local processes, and validates the compose files\n"
          "with the Compose binary, without an engine.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
