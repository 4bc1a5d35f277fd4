"""A command's JSON body is parsed once per request: the input rule, the endpoint's schema and the
idempotency hash share the one parse (they used to parse a 300-judgement batch three times)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_commands_api import judgement


def test_a_judgement_batch_is_parsed_once(client, leader, small, monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps({"judgements": [judgement(pupil) for pupil in small.pupils_a]})
    parses: list[Any] = []
    loads = json.loads

    def counting_loads(document: Any, *args: Any, **kwargs: Any) -> Any:
        if document in (body, body.encode()):
            parses.append(document)
        return loads(document, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    answer = client.post("/v1/judgements", data=body, content_type="application/json",
                         headers={**leader, "Idempotency-Key": "parsed-once"})
    assert answer.status_code == 201, answer.json
    assert len(parses) == 1
    monkeypatch.undo()
    spaced = json.dumps(json.loads(body), indent=2)  # a retry formatted differently is the same request
    retry = client.post("/v1/judgements", data=spaced, content_type="application/json",
                        headers={**leader, "Idempotency-Key": "parsed-once"})
    assert retry.status_code == 201 and retry.json == answer.json


def test_a_body_the_schemas_cannot_read_is_still_checked_by_the_input_rule(client, leader, small) -> None:
    """UTF-16 JSON: the schemas read UTF-8 only (400), but a NUL in it is named as before (422)."""
    body = json.dumps({"judgements": [judgement(note="a\x00b")]}).encode("utf-16")
    answer = client.post("/v1/judgements", data=body, content_type="application/json", headers=leader)
    assert answer.status_code == 422 and "judgements.0.note" in answer.json["errors"], answer.json
    plain = client.post("/v1/judgements", data=json.dumps({"judgements": [judgement()]}).encode("utf-16"),
                        content_type="application/json", headers=leader)
    assert plain.status_code == 400, plain.json
