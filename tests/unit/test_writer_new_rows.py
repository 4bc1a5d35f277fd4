"""Which rows the writer inserts without the upsert (no database: the statements are recorded)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from fathom_shared.read_models.projection import Loaded, Projection
from fathom_shared.read_models.tables import CLASS_TAUGHT, JUDGEMENTS
from fathom_shared.read_models.writer import INSERTS, UNANNOUNCED_INSERTS, UPSERTS, write_rows


class Statements:
    """A connection that keeps each statement it is given, with the rows of its JSON parameter."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, Any]] = []

    def execute(self, statement: Any, parameters: dict[str, Any]) -> None:
        self.executed.append((statement.text, parameters))


def judgement(judgement_id: str) -> dict[str, Any]:
    return {column: None for column in JUDGEMENTS.columns} | {
        "judgement_id": judgement_id, "pupil_id": "p1", "objective_id": "o1", "value": 2, "source": "teacher",
        "assessed_on": date(2026, 11, 2), "sequence": 7, "status": "recorded"}


@pytest.mark.parametrize("new_unannounced", [False, True], ids=["live", "shadow"])
def test_only_new_rows_of_tables_whose_keys_events_mint_are_inserted_the_others_upserted(new_unannounced) -> None:
    """A taught date is made again by a later ``ObjectiveTaught`` without loading it: inserted, it would fail. A
    live insert announces its rows (the statement writes their notices); a shadow's does not."""
    stored, new = str(uuid.uuid4()), str(uuid.uuid4())
    projection = Projection(Loaded({JUDGEMENTS.name: {(stored,): judgement(stored)}}))
    projection.put(JUDGEMENTS, judgement(new))
    projection.put(JUDGEMENTS, {**judgement(stored), "status": "withdrawn"})
    projection.put(CLASS_TAUGHT, {"class_id": "4a", "objective_id": "o1", "taught_on": date(2026, 11, 2)})
    connection = Statements()
    write_rows(connection, "trust-a", projection, 7, new_unannounced=new_unannounced)  # type: ignore[arg-type]
    insert = (UNANNOUNCED_INSERTS if new_unannounced else INSERTS)[JUDGEMENTS.name].text
    statements = [text for text, _ in connection.executed]
    assert statements.count(insert) == 1
    assert ("change_notices" in insert) is not new_unannounced
    assert CLASS_TAUGHT.name not in INSERTS and CLASS_TAUGHT.name not in UNANNOUNCED_INSERTS
    assert UPSERTS[CLASS_TAUGHT.name].text in statements and UPSERTS[JUDGEMENTS.name].text in statements
    inserted = next(p for t, p in connection.executed if t == insert)
    assert new in inserted["rows_json"] and stored not in inserted["rows_json"]
    upserted = next(p for t, p in connection.executed if t == UPSERTS[JUDGEMENTS.name].text)
    assert stored in upserted["rows_json"] and new not in upserted["rows_json"]


def test_every_row_is_upserted_when_asked() -> None:
    """The writer's second attempt at a batch whose insert found a row there (``apply_events``)."""
    projection = Projection()
    projection.put(JUDGEMENTS, judgement(str(uuid.uuid4())))
    connection = Statements()
    write_rows(connection, "trust-a", projection, 7, upsert_all=True)  # type: ignore[arg-type]
    assert [text for text, _ in connection.executed] == [UPSERTS[JUDGEMENTS.name].text]
