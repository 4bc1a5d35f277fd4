"""Free text and who acted go to erasable side tables; events carry their ids only.

Fails before this change: ``JudgementRecorded`` held the note (``comment``) and ``evidence_ref``
inline, corrections their ``reason``, interventions their name, lead and outcome, and every
event's metadata the caller's ``sub``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from fathom_api.validation import school_today
from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import NewEvent
from fathom_shared.events import upcast
from fathom_shared.personal import lead_sub, sub_of
from tests.rebuild_support import append
from tests.support import bearer, events_of, rows_of, token_for

DAY = (school_today() - timedelta(days=2)).isoformat()
NOTE, EVIDENCE, REASON = "Maisie used her fingers", "book 4 p12 (Maisie)", "Maisie's score was mistyped"
TEACHER = "mr.tamworth@oak.example"


def _texts(app_engine, trust) -> dict[str, tuple]:
    return {str(r.text_id): (r.text, r.pupil_id, r.erased_at is not None) for r in rows_of(
        app_engine, trust, "SELECT text_id, text, pupil_id, erased_at FROM personal_texts")}


def test_events_carry_ids_and_the_texts_live_in_personal_texts(client, leader, small, app_engine, trust, settings):
    teacher = bearer(token_for(settings, trust, ["teacher"], sub=TEACHER, classes=["4A"]))
    recorded = client.post("/v1/judgements", headers=teacher, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": DAY, "note": NOTE,
         "evidence_ref": EVIDENCE}]})
    assert recorded.status_code == 201, recorded.json
    corrected = client.post(f"/v1/judgements/{recorded.json['event_ids'][0]}/correction", headers=leader,
                            json={"value": 3, "reason": REASON})
    assert corrected.status_code == 201, corrected.json
    [judgement] = events_of(app_engine, trust, "JudgementRecorded")
    [correction] = events_of(app_engine, trust, "JudgementCorrected")
    assert (judgement.schema_version, correction.schema_version) == (3, 2)
    texts = _texts(app_engine, trust)
    assert texts[judgement.data["note_ref"]] == (NOTE, "p1", False)
    assert texts[judgement.data["evidence_ref_id"]] == (EVIDENCE, "p1", False)
    assert texts[correction.data["reason_ref"]] == (REASON, "p1", False)
    staff = dict(rows_of(app_engine, trust, "SELECT CAST(staff_ref AS text), sub FROM staff_identities"))
    assert staff[judgement.metadata["actor_ref"]] == TEACHER and staff[correction.metadata["actor_ref"]] == "head"
    for event in (judgement, correction):
        assert "sub" not in event.metadata
        for secret in (NOTE, EVIDENCE, REASON, TEACHER):
            assert secret not in str(event.data) + str(event.metadata)


def test_erasing_the_pupil_blanks_their_texts_only(client, leader, small, app_engine, trust):
    answer = client.post("/v1/judgements", headers=leader, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": DAY, "note": NOTE},
        {"pupil_id": "p2", "objective_id": "m4-1", "value": 2, "assessed_on": DAY, "note": "kept"}]})
    assert answer.status_code == 201, answer.json
    assert client.delete("/v1/pupils/p1/personal-data", headers=leader).status_code == 200
    assert sorted((t[1], t[0]) for t in _texts(app_engine, trust).values()) == [("p1", None), ("p2", "kept")]


def test_erasing_an_intervention_pupil_blanks_its_name_and_outcome(client, leader, small, app_engine, trust):
    started = client.post("/v1/interventions", headers=leader, json={
        "name": "Maisie and Tom", "lead": TEACHER, "pupil_ids": ["p1", "p2"], "objective_ids": ["m4-1"],
        "start_date": DAY})
    assert started.status_code == 201, started.json
    ended = client.post(f"/v1/interventions/{started.json['id']}/end", headers=leader,
                        json={"end_date": DAY, "outcome": "Maisie caught up"})
    assert ended.status_code == 201, ended.json
    [event] = events_of(app_engine, trust, "InterventionStarted")
    assert set(event.data) >= {"name_ref", "lead_ref"} and not set(event.data) & {"name", "lead"}
    assert sorted(t[0] for t in _texts(app_engine, trust).values()) == ["Maisie and Tom", "Maisie caught up"]
    assert client.delete("/v1/pupils/p1/personal-data", headers=leader).status_code == 200
    assert [t[0] for t in _texts(app_engine, trust).values()] == [None, None]


def test_erasing_a_member_of_staff(client, leader, small, app_engine, trust, settings):
    teacher = bearer(token_for(settings, trust, ["teacher"], sub=TEACHER, classes=["4A"]))
    assert client.post("/v1/judgements", headers=teacher, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": DAY}]}).status_code == 201
    assert client.post("/v1/classes/4A/staff", headers=leader, json={"staff_sub": TEACHER}).status_code == 201
    assert client.delete(f"/v1/staff/{TEACHER}/personal-data", headers=teacher).status_code == 403
    erased = client.delete(f"/v1/staff/{TEACHER}/personal-data", headers=leader)
    assert erased.status_code == 200, erased.json
    [event] = events_of(app_engine, trust, "StaffErased")
    assert event.stream_type == "staff" and TEACHER not in str(event.data) + str(event.metadata)
    assert rows_of(app_engine, trust, "SELECT sub FROM staff_identities WHERE staff_ref = CAST(:ref AS uuid)",
                   ref=event.data["staff_ref"]) == [(None,)]
    assert rows_of(app_engine, trust, "SELECT sub FROM staff_identities WHERE sub = :sub", sub=TEACHER) == []
    assert rows_of(app_engine, trust, "SELECT 1 FROM staff_identities WHERE sub IS NULL AND erased_at IS NOT NULL")
    assert rows_of(app_engine, trust, "SELECT 1 FROM staff_assignments WHERE staff_sub = :sub", sub=TEACHER) == []
    assert client.delete(f"/v1/staff/{TEACHER}/personal-data", headers=leader).status_code == 404
    assert client.delete("/v1/staff/nobody/personal-data", headers=leader).status_code == 404


def test_a_member_of_staff_erasing_themselves_stays_erased(client, leader, small, app_engine, trust):
    """The erasure's own event names its actor by the staff ref they had (now erased). Fails before: the actor's
    ref was looked up after the erasure had blanked their sub, so a fresh identity row with the erased sub was
    added for the event's metadata, undoing the erasure."""
    assert rows_of(app_engine, trust, "SELECT 1 FROM staff_identities WHERE sub = 'head'")
    assert client.delete("/v1/staff/head/personal-data", headers=leader).status_code == 200
    assert rows_of(app_engine, trust, "SELECT 1 FROM staff_identities WHERE sub = 'head'") == []
    [event] = events_of(app_engine, trust, "StaffErased")
    assert event.metadata["actor_ref"] == event.data["staff_ref"]


def test_sql_errors_do_not_carry_their_parameters(settings, trust):
    """An SQL error is what services log when the database refuses a write; with ``hide_parameters``
    its text names the statement, never the values (a note, a pupil's name). Fails without it."""
    engine = make_engine(settings.app_database_url, pool_size=1)
    try:
        with pytest.raises(DBAPIError) as raised, TenantUnitOfWork(engine, trust) as uow:
            # Another trust's row: refused by row-level security.
            uow.connection.execute(text("INSERT INTO personal_texts (trust_id, text_id, text) "
                                        "VALUES (:trust, gen_random_uuid(), :text)"),
                                   {"trust": "someone-else", "text": NOTE})
    finally:
        engine.dispose()
    assert "row-level security" in str(raised.value)
    assert NOTE not in str(raised.value) and "someone-else" not in str(raised.value)


def test_an_erased_pupils_inline_text_in_old_events_is_hidden_by_every_view(
        client, leader, small, app_engine, trust, settings):
    """Events written before erasable texts hold the note and reason inline and cannot be rewritten:
    once the pupil is erased, the profile (now and as of the past) and the audit answers hide it."""
    stored = append(app_engine, trust, [NewEvent("pupil", "p1", "JudgementRecorded", {
        "pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": DAY, "source": "teacher",
        "comment": NOTE, "evidence_ref": EVIDENCE, "class_id": "4A"}, schema_version=2)])
    append(app_engine, trust, [NewEvent("pupil", "p1", "JudgementCorrected", {
        "judgement_id": str(stored[0].event_id), "pupil_id": "p1", "objective_id": "m4-1", "value": 3,
        "reason": REASON})])
    reports = create_reports(settings, engine=app_engine).test_client()
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))
    answers = ("/v1/pupils/p1", "/v1/audit/events?pupil_id=p1",
               "/v1/audit/pupils/p1/objectives/m4-1/history")

    def shown() -> str:
        rebuild_trust(app_engine, trust)
        as_of = reports.get(f"/v1/pupils/p1?as_of={datetime.now(UTC).isoformat()}", headers=leader)
        return as_of.get_data(as_text=True) + "".join(
            reports.get(path, headers=auditor if "audit" in path else leader).get_data(as_text=True)
            for path in answers)

    before = shown()
    assert NOTE in before and REASON in before, "old events' inline text still reads before erasure"
    assert client.delete("/v1/pupils/p1/personal-data", headers=leader).status_code == 200
    after = shown()
    assert NOTE not in after and REASON not in after and EVIDENCE not in after
    assert '"value": 3' in after.replace('"value":3', '"value": 3'), "the judgement itself still counts"


def test_an_interventions_lead_resolves_to_their_sub_until_erased(client, leader, small, app_engine, trust):
    """What authorisation compares with the caller's ``sub``: the lead's ``sub`` now (None once erased)."""
    started = client.post("/v1/interventions", headers=leader, json={
        "name": "Number bonds", "lead": TEACHER, "pupil_ids": ["p1"], "objective_ids": ["m4-1"], "start_date": DAY})
    assert started.status_code == 201, started.json
    [event] = events_of(app_engine, trust, "InterventionStarted")

    def lead() -> str | None:
        with TenantUnitOfWork(app_engine, trust) as uow:
            by_ref = sub_of(uow.connection, event.data["lead_ref"])
            assert lead_sub(uow.connection, upcast(event.event_type, event.schema_version, event.data)) == by_ref
            assert lead_sub(uow.connection, upcast("InterventionStarted", 1, {
                "intervention_id": "old", "name": "n", "lead": "old-lead", "start_date": DAY, "pupil_ids": [],
                "objective_ids": []})) == "old-lead"
            return by_ref

    assert lead() == TEACHER
    assert client.delete(f"/v1/staff/{TEACHER}/personal-data", headers=leader).status_code == 200
    assert lead() is None
