"""The online rebuild's switch compares the shadow with the live rows by hashing, whatever the statistics say.

The switch makes the trust's live rows equal its shadow rows: live rows the shadow lacks deleted, the others
upserted where they differ (``shadow.swap``). The shadow was just filled, and the live rows of a trust the projector
has just caught up (a bulk import's history) are unknown to the statistics of the last ``ANALYZE``, which then
estimate the trust at one row: the planner probed the shadow's key once per live row. In the benchmark's history
part (a million judgements) the switch's delete took 3.9 s that way against about half a second hashed, and the
rebuild missed its line (48,862 and 38,814 events/s) whenever autovacuum had not analyzed the live judgements yet.

A scratch database whose statistics know one trust of 40,000 judgements; the second trust's 20,000 live and shadow
rows are written in the test (the live ones in its open transaction). The test counts the scans of the shadow's
primary key from PostgreSQL's per-transaction counters.
"""

from __future__ import annotations

from sqlalchemy import text

from fathom_projector.shadow import SCHEMA, ensure_shadow, swap
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import create_trust
from tests.integration.test_read_model_statistics import ANALYZED, JUDGED, OBJECTIVES, ONBOARDED
from tests.support import scratch_database

SHADOW_KEY_SCANS = ("SELECT pg_stat_get_xact_numscans(CAST(:index AS regclass))")


def test_the_switch_reads_the_shadow_once_not_once_per_live_row(settings, owner_engine):
    """Before: 20,000 scans of the shadow's key, one per live judgement (a nested loop)."""
    with scratch_database(settings, owner_engine) as database:
        ensure_shadow(database.owner)
        for trust_id in (ANALYZED, ONBOARDED):
            create_trust(database.owner, trust_id, trust_id)
        with database.owner.begin() as connection:
            connection.execute(text(JUDGED), {"trust": ANALYZED, "count": 40_000, "objectives": OBJECTIVES})
            connection.execute(text("ANALYZE rm_judgements"))
            connection.execute(text(JUDGED.replace("INSERT INTO rm_judgements", f"INSERT INTO {SCHEMA}.rm_judgements")),
                               {"trust": ONBOARDED, "count": 20_000, "objectives": OBJECTIVES})
        with TenantUnitOfWork(database.app, ONBOARDED) as uow:
            connection = uow.connection
            connection.execute(text(JUDGED), {"trust": ONBOARDED, "count": 20_000, "objectives": OBJECTIVES})
            index = {"index": f"{SCHEMA}.rm_judgements_pkey"}
            before = connection.execute(text(SHADOW_KEY_SCANS), index).scalar_one()
            swap(connection, ONBOARDED, ["rm_judgements"], 20_000)
            scans = connection.execute(text(SHADOW_KEY_SCANS), index).scalar_one() - before
            live = connection.execute(text("SELECT count(*) FROM rm_judgements")).scalar_one()
    assert live == 20_000  # the shadow's rows: the live ones (other ids) deleted, the shadow's inserted
    assert scans <= 3, f"{scans:,} scans of the shadow's key for 20,000 live judgements"  # upsert, count, delete
