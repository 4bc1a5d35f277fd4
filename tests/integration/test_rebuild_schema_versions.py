"""Old stored JudgementRecorded v1 events replay to the same read models as v2 events (both hold the note
inline, kept as legacy text); the API writes v3, whose note is an erasable text carried by id."""

from __future__ import annotations

import random
import uuid
from typing import Any

from fathom_projector.online_rebuild import rebuild_online
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.shadow import ensure_shadow
from fathom_shared.event_store import NewEvent, StoredEvent
from tests.rebuild_support import amendments, append, judgements, roster, snapshot
from tests.support import bearer, events_of, personal_text, rows_of, token_for


def as_v2(event: NewEvent) -> NewEvent:
    data = {k: v for k, v in event.data.items() if k != "note"}
    return NewEvent(event.stream_type, event.stream_id, event.event_type,
                    {**data, "comment": event.data["note"], "evidence_ref": None}, schema_version=2)


def write_history(engine, trust_id: str, version: int) -> list[StoredEvent]:
    """The same judgements, corrections and withdrawals; JudgementRecorded at ``version``."""
    rng = random.Random(5)
    stored = append(engine, trust_id, roster())
    recorded = [e if version == 1 else as_v2(e) for e in judgements(rng, 400, note="v1 note")]
    batch = append(engine, trust_id, recorded)
    return stored + batch + append(engine, trust_id, amendments(rng, batch, 30))


def comparable(tables: dict[str, list[tuple[Any, ...]]], stored: list[StoredEvent]) -> dict[str, list]:
    """Rows without the trust id, event ids by their sequence (two trusts cannot share event ids)."""
    sequence_of = {e.event_id: e.sequence for e in stored}
    return {name: sorted((tuple(sequence_of.get(v, v) if isinstance(v, uuid.UUID) else v
                                for v in row if not (isinstance(v, str) and v.startswith("trust-")))
                          for row in rows), key=repr)
            for name, rows in tables.items() if name != "last_applied"}


def test_v1_events_replay_to_the_same_read_models_as_v2(app_engine, owner_engine, make_trust):
    old, new = make_trust(), make_trust()
    stored_v1, stored_v2 = write_history(app_engine, old, 1), write_history(app_engine, new, 2)
    assert {e.schema_version for e in stored_v1 if e.event_type == "JudgementRecorded"} == {1}
    assert {e.schema_version for e in stored_v2 if e.event_type == "JudgementRecorded"} == {2}
    ensure_shadow(owner_engine)
    for trust_id in (old, new):
        rebuild_online(app_engine, trust_id, chunk=200)
    from_v1, from_v2 = snapshot(app_engine, old), snapshot(app_engine, new)
    assert from_v1["dead_letters"] == []
    assert {row[9] for row in from_v1["rm_judgements"]} == {"v1 note"}, "the v1 note is the comment"
    assert comparable(from_v1, stored_v1) == comparable(from_v2, stored_v2)
    assert from_v1["last_applied"] == from_v2["last_applied"] == [len(stored_v1)]
    rebuild_trust(app_engine, old)
    assert snapshot(app_engine, old) == from_v1


def test_a_future_version_is_dead_lettered_and_the_rest_applies(app_engine, make_trust):
    trust_id = make_trust()
    append(app_engine, trust_id, roster())
    future = NewEvent("pupil", "p1", "JudgementRecorded", {"pupil_id": "p1", "objective_id": "o1", "value": 2,
                                                            "assessed_on": "2026-10-01", "remark": "v4"},
                      schema_version=4)
    stored = append(app_engine, trust_id, [future, *judgements(random.Random(1), 3)])
    rebuild_trust(app_engine, trust_id)
    assert rows_of(app_engine, trust_id, "SELECT sequence, reason FROM dead_letters") == [
        (stored[0].sequence, "JudgementRecorded v4 is newer than this code (v3)")]
    assert len(rows_of(app_engine, trust_id, "SELECT 1 FROM rm_judgements")) == 3


def test_the_api_writes_version_3_with_the_note_and_evidence_by_id(client, settings, trust, small):
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    response = client.post("/v1/judgements", headers=leader, json={"judgements": [{
        "pupil_id": "p1", "objective_id": "m4-1", "value": 3, "assessed_on": "2026-10-01",
        "note": "explained it back", "evidence_ref": "https://evidence.example/work/17"}]})
    assert response.status_code == 201, response.json
    (event,) = events_of(client.application.extensions["fathom.engine"], trust, "JudgementRecorded")
    engine = client.application.extensions["fathom.engine"]
    assert event.schema_version == 3
    assert personal_text(engine, trust, event.data["note_ref"]) == "explained it back"
    assert personal_text(engine, trust, event.data["evidence_ref_id"]) == "https://evidence.example/work/17"
    assert not {"note", "comment", "evidence_ref"} & set(event.data)
