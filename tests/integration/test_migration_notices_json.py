"""Migration 0027 on a database that already has change notices: the feed reads the same notices after it, and after
its downgrade."""

from __future__ import annotations

import json

from sqlalchemy import text

from fathom_reports.changes.store import read_notices
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import create_trust
from tests.integration.test_migration_idempotency_subject import database_at, downgrade, upgrade

BEFORE, AFTER = "0026_cell_fillfactor", "0027_notices_as_json"
ROW = {"judgement_id": "6f1c2a4e-0000-4000-8000-000000000001", "pupil_id": "p1", "objective_id": "o1", "value": 3,
       "assessed_on": "2026-10-05", "note": None, "sequence": 12, "weight": 1.5, "name": "Zoë \u201cquoted\u201d"}


def notices(engine, trust: str) -> tuple[set[str], list[tuple]]:
    with TenantUnitOfWork(engine, trust) as uow:
        types = uow.connection.execute(text(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'change_notices' "
            "AND column_name IN ('keys', 'data')")).scalars().all()
        read = read_notices(uow.connection, after=0, limit=10)
    return set(types), [(n.notice_id, n.model, n.keys, n.sequence, n.data) for n in read]


def test_notices_written_as_jsonb_read_the_same_after_the_migration_and_after_its_downgrade(postgres, owner_engine):
    with database_at(postgres, owner_engine, BEFORE) as (url, engine):
        create_trust(engine, "mig-n", "mig-n")
        with TenantUnitOfWork(engine, "mig-n") as uow:
            uow.connection.execute(text(
                "INSERT INTO change_notices (trust_id, notice_id, model, keys, sequence, data) VALUES "
                "('mig-n', 1, 'judgements', CAST(:keys AS jsonb), 12, CAST(:row AS jsonb)), "
                "('mig-n', 2, 'pupil_objective', '{\"pupil_id\": \"p1\", \"objective_id\": \"o1\"}', 12, NULL)"),
                {"keys": json.dumps({"judgement_id": ROW["judgement_id"]}), "row": json.dumps(ROW)})
            uow.commit()
        before = notices(engine, "mig-n")
        upgrade(url, AFTER)
        after = notices(engine, "mig-n")
        downgrade(url, BEFORE)
        again = notices(engine, "mig-n")
    assert before[0] == again[0] == {"jsonb"} and after[0] == {"json"}
    assert before[1] == after[1] == again[1]
    assert before[1][0][4] == ROW and before[1][1][4] is None
