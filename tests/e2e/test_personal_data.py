"""Free text and staff identities stay erasable: they never enter the immutable log, and erasing
blanks them everywhere they were shown, while counts and the hash chain stay intact.

Through every real process: a teacher's note naming a child, an evidence reference, a correction's
reason, an intervention named after the child with an outcome, led by the teacher. After the pupil
and the teacher are erased, none of it is in ``events`` (data or metadata), the read models, the
change notices, the profile or the audit answers; the chain still verifies. Before this change the
text went into ``events.data`` and the teacher's ``sub`` into ``events.metadata`` (so this fails there).

The services' logs of the whole run, including a request that fails on a database constraint, must
not hold the pupil's name or any of the texts either.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import text

from fathom_api.validation import school_today
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import create_trust
from tests.support import SmallTrust, token_for

TODAY = school_today()
GIVEN, FAMILY = "Zebedee", "Quartermaine"
TEACHER = "ms.honeysuckle@oak.example"
NOTE = "Zebedee counted on from 7 with Marigold's help"
EVIDENCE = "https://evidence.example/zebedee-quartermaine-book-4"
REASON = "Zebedee's mark was entered against the wrong column"
INTERVENTION = "Zebedee Quartermaine catch-up"
OUTCOME = "Zebedee is now secure on counting on"
TEXTS = (NOTE, EVIDENCE, REASON, INTERVENTION, OUTCOME)
READ_MODELS = ("rm_judgements", "rm_pupil_objective", "rm_interventions", "change_notices")


@pytest.fixture(scope="module")
def story(system, owner_engine):
    """The trust, after the writes and both erasures; ``shown`` holds the answers read before erasure."""
    trust = f"personal-{uuid.uuid4().hex[:10]}"
    create_trust(owner_engine, trust, "Personal Academy Trust")
    leader = token_for(system.settings, trust, ["trust_leader"], sub="head@oak.example")
    teacher = token_for(system.settings, trust, ["teacher"], sub=TEACHER, classes=["4A"])
    last = 0

    def send(token: str, path: str, body: dict | None = None, method: str = "POST", expect: int = 201) -> dict:
        nonlocal last
        response = requests.request(method, system.api + path, json=body, timeout=30,
                                    headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == expect, (path, response.text)
        answer = response.json()
        last = max(last, answer.get("last_sequence") or 0)
        return answer

    def read(token: str, path: str) -> dict:
        response = system.get(token, path, consistency=f"at_least:{last}")
        assert response.status_code == 200, (path, response.text)
        return response.json()

    SmallTrust().create(lambda path, body: send(leader, path, body))
    pupil = {"id": "pz", "school_id": "sch-1", "class_id": "4A", "given_name": GIVEN, "family_name": FAMILY,
             "upn": "Z12345678901Z"}
    send(leader, "/v1/pupils", pupil)
    send(leader, "/v1/pupils", pupil, expect=409)  # the database refuses the duplicate id (a unique constraint)
    day = (TODAY - timedelta(days=3)).isoformat()
    recorded = send(teacher, "/v1/judgements", {"judgements": [
        {"pupil_id": "pz", "objective_id": "m4-1", "value": 2, "assessed_on": day, "note": NOTE,
         "evidence_ref": EVIDENCE}]})
    send(leader, f"/v1/judgements/{recorded['event_ids'][0]}/correction", {"value": 3, "reason": REASON})
    started = send(teacher, "/v1/interventions", {"name": INTERVENTION, "lead": TEACHER, "pupil_ids": ["pz"],
                                                  "objective_ids": ["m4-1"], "start_date": day})
    send(teacher, f"/v1/interventions/{started['id']}/end", {"end_date": TODAY.isoformat(), "outcome": OUTCOME})
    shown = {"profile": read(leader, "/v1/pupils/pz"),
             "intervention": read(leader, f"/v1/interventions/{started['id']}")}

    send(leader, "/v1/pupils/pz/personal-data", method="DELETE", expect=200)
    send(leader, f"/v1/staff/{TEACHER}/personal-data", method="DELETE", expect=200)
    read(leader, "/v1/pupils/pz")  # the projector has applied everything
    return {"trust": trust, "leader": leader, "intervention": started["id"], "shown": shown,
            "auditor": token_for(system.settings, trust, ["auditor"], sub="auditor@oak.example")}


def _text_of(answer: object) -> str:
    return json.dumps(answer)


def test_texts_and_the_teacher_were_shown_before_erasure(story):
    """Resolving ids at read time still shows what was written, until it is erased."""
    profile = _text_of(story["shown"]["profile"])
    assert NOTE in profile and REASON in profile and TEACHER in profile and INTERVENTION in profile
    intervention = story["shown"]["intervention"]["intervention"]
    assert (intervention["name"], intervention["lead"], intervention["outcome"]) == (INTERVENTION, TEACHER, OUTCOME)


def test_the_log_never_held_the_texts_or_the_teachers_sub(owner_engine, story):
    """Raw SQL as the database owner: the texts appear nowhere in ``events.data`` / ``metadata`` nor read models
    (of any trust: the owner role may bypass row-level security)."""
    with TenantUnitOfWork(owner_engine, story["trust"]) as uow:
        logged = uow.connection.execute(text(
            "SELECT string_agg(data::text || metadata::text, ' ') FROM events")).scalar_one()
        models = {table: uow.connection.execute(text(
            f"SELECT coalesce(string_agg(to_jsonb(t)::text, ' '), '') FROM {table} t")).scalar_one()
            for table in READ_MODELS}
        counts = uow.connection.execute(text(  # the owner may bypass row-level security: name the trust
            "SELECT count(*) FILTER (WHERE event_type = 'JudgementRecorded'), "
            "count(*) FILTER (WHERE event_type = 'InterventionStarted') FROM events WHERE trust_id = :trust"),
            {"trust": story["trust"]}).one()
    for secret in (*TEXTS, TEACHER, GIVEN, FAMILY):
        assert secret not in logged, f"{secret!r} is in the immutable log"
        for table, dumped in models.items():
            assert secret not in dumped, f"{secret!r} is in {table}"
    assert tuple(counts) == (1, 1), "erasure removes no event"


def test_after_erasure_no_view_shows_them_and_the_chain_verifies(system, story):
    leader, auditor = story["leader"], story["auditor"]
    profile = system.get(leader, "/v1/pupils/pz").json()
    [judgement] = [h for o in profile["objectives"] for h in o["history"]]
    assert (judgement["value"], judgement["status"], judgement["note"], judgement["reason"],
            judgement["recorded_by"]) == (3, "corrected", None, None, None)
    impact = system.get(leader, f"/v1/interventions/{story['intervention']}").json()
    intervention = impact["intervention"]
    assert (intervention["name"], intervention["lead"], intervention["outcome"]) == (None, None, None)
    as_of = datetime.now(UTC).isoformat()
    past_profile = system.get(leader, "/v1/pupils/pz", as_of=as_of)
    assert past_profile.status_code == 200, past_profile.text
    answers = [profile, impact, past_profile.json(),
               system.get(auditor, "/v1/audit/events").json(),
               system.get(auditor, "/v1/audit/events", format="jsonl").text,
               system.get(auditor, "/v1/audit/pupils/pz/objectives/m4-1/history").json()]
    for secret in (*TEXTS, TEACHER, GIVEN, FAMILY):
        for answer in answers:
            assert secret not in _text_of(answer)
    verified = system.get(auditor, "/v1/audit/verify").json()
    assert verified["ok"] is True and verified["events_checked"] > 0


def test_no_service_logged_a_name_or_a_text(system, story):
    logs = {name: process.log_path.read_text(errors="replace") for name, process in system.processes.items()}
    assert any("409" in log or "POST /v1/pupils" in log for log in logs.values()), "the run was logged"
    for secret in (*TEXTS, GIVEN, FAMILY):
        for name, log in logs.items():
            assert secret not in log, f"{secret!r} in the {name} log"
