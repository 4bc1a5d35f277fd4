"""What the demo's loaders share (:mod:`fathom_infra.demo` and :mod:`fathom_infra.demo_cycle`): the API client
that sends each body once, and a pupil as the loaders know it. A module of its own so that neither loader
imports the other for them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import requests


class DemoLoadError(RuntimeError):
    """The API refused one of the demo's bodies: loading stops there (a re-run is safe: see :class:`Client`)."""


@dataclass
class Pupil:
    pupil_id: str
    class_id: str
    year: int
    ability: float


class Client:
    """Posts to the API with an Idempotency-Key per body, so a re-run after a failure is safe."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.last_sequence = 0

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        key = hashlib.sha256(json.dumps([method, path, body], sort_keys=True, default=str).encode()).hexdigest()
        response = self.session.request(method, self.api_url + path, json=body, timeout=60,
                                        headers={"Idempotency-Key": f"demo:{key[:40]}"})
        if response.status_code not in (200, 201):
            raise DemoLoadError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        answer = response.json()
        self.last_sequence = max(self.last_sequence, answer.get("last_sequence") or 0)
        return answer

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.send("POST", path, body)
