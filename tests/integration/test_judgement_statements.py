"""What one judgement request costs the database: its statements, counted (not timed).

A single judgement's latency is mostly round trips to PostgreSQL; these pin how many a request with an
Idempotency-Key makes, so a change that adds one (a savepoint, a separate head update) is seen.
"""

from __future__ import annotations

from sqlalchemy import event

from fathom_api.validation import school_today


def test_a_judgement_with_an_idempotency_key_is_nine_statements_and_no_savepoint(client, leader, small, app_engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    body = {"judgements": [{"pupil_id": small.pupils_a[0], "objective_id": small.objectives[0], "value": 3,
                            "assessed_on": school_today().isoformat()}]}
    client.post("/v1/judgements", json=body, headers={**leader, "Idempotency-Key": "warm"})  # caches warmed
    event.listen(app_engine, "before_cursor_execute", count)
    try:
        answer = client.post("/v1/judgements", json=body, headers={**leader, "Idempotency-Key": "counted"})
    finally:
        event.remove(app_engine, "before_cursor_execute", count)
    assert answer.status_code == 201, answer.json
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert len(statements) <= 9, "\n".join(statements)
