"""Migration 0014 on a database whose trusts already have read models: their class counts are there at once."""

from __future__ import annotations

from sqlalchemy import text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import create_trust
from tests.integration.test_migration_idempotency_subject import database_at, upgrade

PUPILS = (("a1", "4a", None), ("a2", "4a", None), ("a3", "4a", "2026-10-01"), ("b1", "4b", None), ("n1", None, None))
CELLS = (("a1", "o1", "teacher", 3), ("a2", "o1", "teacher", 3), ("a3", "o1", "teacher", 3),
         ("b1", "o1", "teacher", 2), ("b1", "o1", "self", 4), ("n1", "o1", "teacher", 1))


def test_existing_trusts_are_counted_trust_by_trust(postgres, owner_engine):
    with database_at(postgres, owner_engine, "0013_assessment_calendar") as (url, engine):
        for trust in ("mig-a", "mig-b"):
            create_trust(engine, trust, trust)
            with TenantUnitOfWork(engine, trust) as uow:
                for pupil, klass, left_on in PUPILS:
                    uow.connection.execute(text(
                        "INSERT INTO rm_pupils (trust_id, pupil_id, school_id, class_id, year_group, groups, "
                        "left_on) VALUES (:t, :p, 's1', :c, 4, '{}', CAST(:l AS date))"),
                        {"t": trust, "p": pupil, "c": klass, "l": left_on})
                for pupil, objective, source, value in CELLS[:None if trust == "mig-a" else 1]:
                    uow.connection.execute(text(
                        "INSERT INTO rm_pupil_objective (trust_id, pupil_id, objective_id, source, value, "
                        "assessed_on, event_id, sequence) VALUES (:t, :p, :o, :s, :v, '2026-10-05', "
                        "gen_random_uuid(), 1)"), {"t": trust, "p": pupil, "o": objective, "s": source, "v": value})
                uow.commit()
        upgrade(url, "0014_class_band_counts")
        counted = {}
        for trust in ("mig-a", "mig-b"):
            with TenantUnitOfWork(engine, trust) as uow:
                counted[trust] = sorted(tuple(r) for r in uow.connection.execute(text(
                    "SELECT class_id, source, objective_id, value, pupils FROM rm_class_band_counts "
                    "WHERE trust_id = :t"), {"t": trust}))
        assert counted == {"mig-a": [("4a", "teacher", "o1", 3, 2), ("4b", "self", "o1", 4, 1),
                                     ("4b", "teacher", "o1", 2, 1)],
                           "mig-b": [("4a", "teacher", "o1", 3, 1)]}
