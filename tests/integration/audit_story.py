"""A small trust with a judgement history for the auditor tests: recordings, a correction, a withdrawal.

Sequences (SmallTrust takes 1–15): 16, 17 p1 and p2 on m4-1 by ``t-rae``; 18 p1's corrected to 3
by ``head``; 19 p1 on m4-2 by ``t-rae``; 20 p1's m4-1 judgement withdrawn by ``head``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fathom_api.validation import school_today
from tests.support import SmallTrust, bearer, poster, token_for


@dataclass
class Story:
    trust: str
    small: SmallTrust
    first: str
    """p1's m4-1 judgement (event 16): corrected, then withdrawn."""
    assessed_on: date


def tell(client, settings, trust: str) -> Story:
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    teacher = bearer(token_for(settings, trust, ["trust_leader"], sub="t-rae"))
    small = SmallTrust().create(poster(client, leader))
    day = school_today() - timedelta(days=3)

    def judge(*cells: tuple[str, str, int]) -> list[str]:
        response = client.post("/v1/judgements", headers=teacher, json={"judgements": [
            {"pupil_id": p, "objective_id": o, "value": v, "assessed_on": day.isoformat()} for p, o, v in cells]})
        assert response.status_code == 201, response.json
        return response.json["event_ids"]

    first, _ = judge(("p1", "m4-1", 2), ("p2", "m4-1", 3))
    answer = client.post(f"/v1/judgements/{first}/correction", json={"value": 3, "reason": "Mis-keyed"},
                         headers=leader)
    assert answer.status_code == 201, answer.json
    judge(("p1", "m4-2", 1))
    answer = client.post(f"/v1/judgements/{first}/withdrawal", json={"reason": "Wrong pupil"}, headers=leader)
    assert answer.status_code == 201, answer.json
    return Story(trust, small, first, day)
