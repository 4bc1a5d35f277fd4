"""What one judgement request costs the database: its statements, counted (not timed).

A single judgement's latency is mostly round trips to PostgreSQL; these pin how many a request with an
Idempotency-Key makes, so a change that adds one (a savepoint, a separate head update) is seen.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import event

from fathom_api.validation import school_today


def test_a_judgement_with_an_idempotency_key_is_seven_round_trips_and_no_savepoint(client, leader, small, app_engine,
                                                                                     monkeypatch):
    """Statements through the SQL toolkit, plus each pipeline (statements sent together, answered at its end: one
    round trip), plus each pipeline's first read of an answer before its end (the append reads the trust's head
    before it sends the rows: a second round trip)."""
    statements: list[str] = []
    pipeline, fetchone = psycopg.Connection.pipeline, psycopg.Cursor.fetchone
    waited: set[int] = set()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    def counted_pipeline(connection: psycopg.Connection):
        statements.append("(pipeline)")
        return pipeline(connection)

    def counted_fetchone(cursor: psycopg.Cursor):
        if (open_pipeline := cursor.connection._pipeline) is not None and id(open_pipeline) not in waited:
            waited.add(id(open_pipeline))
            statements.append("(an answer read inside the pipeline)")
        return fetchone(cursor)

    body = {"judgements": [{"pupil_id": small.pupils_a[0], "objective_id": small.objectives[0], "value": 3,
                            "assessed_on": school_today().isoformat()}]}
    client.post("/v1/judgements", json=body, headers={**leader, "Idempotency-Key": "warm"})  # caches warmed
    event.listen(app_engine, "before_cursor_execute", count)
    monkeypatch.setattr(psycopg.Connection, "pipeline", counted_pipeline)
    monkeypatch.setattr(psycopg.Cursor, "fetchone", counted_fetchone)
    try:
        answer = client.post("/v1/judgements", json=body, headers={**leader, "Idempotency-Key": "counted"})
    finally:
        event.remove(app_engine, "before_cursor_execute", count)
        monkeypatch.undo()
    assert answer.status_code == 201, answer.json
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert len(statements) <= 7, "\n".join(statements)
    assert "(an answer read inside the pipeline)" in statements, "the append's wait for the head is counted"
