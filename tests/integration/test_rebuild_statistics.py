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

from fathom_projector.online_rebuild import Progress, rebuild_online
from fathom_projector.shadow import SCHEMA, analyse_replayed, ensure_shadow, swap
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import create_trust
from tests.integration.test_read_model_statistics import ANALYZED, JUDGED, OBJECTIVES, ONBOARDED
from tests.rebuild_support import history
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


ANALYSED = ("SELECT c.reltuples, s.last_analyze IS NOT NULL FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:table AS regclass)")


def test_a_shadow_made_afresh_is_analysed_before_the_switch_compares_it(settings, owner_engine):
    """A shadow table made afresh (the first rebuild, or re-shaped after a migration) has no statistics until
    autovacuum gets to it: the switch's comparison of a million replayed judgements was planned for a few thousand and
    its hash join spilled to disk. Before: never analysed when the switch ran (``reltuples`` -1)."""
    with scratch_database(settings, owner_engine) as database:
        ensure_shadow(database.owner)
        with database.owner.begin() as connection:  # autovacuum holding the table would have the analysis skip it
            connection.execute(text(f"ALTER TABLE {SCHEMA}.rm_judgements SET (autovacuum_enabled = off)"))
        create_trust(database.owner, ONBOARDED, ONBOARDED)
        history(database.app, ONBOARDED, judgement_count=2000)
        with database.owner.connect() as connection:
            replayed = connection.execute(text("SELECT count(*) FROM events WHERE trust_id = :t "
                                               "AND event_type = 'JudgementRecorded'"), {"t": ONBOARDED}).scalar_one()
        seen = []

        def at_the_switch(progress: Progress) -> None:
            if progress.stage == "switching":
                with database.owner.connect() as connection:
                    seen.append(tuple(connection.execute(text(ANALYSED),
                                                         {"table": f"{SCHEMA}.rm_judgements"}).one()))

        rebuild_online(database.app, ONBOARDED, report=at_the_switch)
    assert seen == [(replayed, True)]


def test_the_analysing_function_reaches_only_the_shadows_tables(settings, owner_engine):
    """The rebuild runs as the application role and ``ANALYZE`` needs the owner: the function that runs it as the
    owner takes table names, and a live table's name analyses the shadow's table of that name, nothing else."""
    with scratch_database(settings, owner_engine) as database:
        ensure_shadow(database.owner)
        with TenantUnitOfWork(database.app, ONBOARDED) as uow:
            analyse_replayed(uow.connection, ["rm_judgements", "events", "public.events", "trusts"])
            uow.commit()
        with database.owner.connect() as connection:
            analysed = {table: connection.execute(text(ANALYSED), {"table": table}).one()[1]
                        for table in (f"{SCHEMA}.rm_judgements", "public.rm_judgements", "events", "trusts")}
    assert analysed == {f"{SCHEMA}.rm_judgements": True, "public.rm_judgements": False, "events": False,
                        "trusts": False}


def test_the_analysing_function_runs_as_its_owner_with_a_fixed_search_path_for_the_application_role_only(
        settings, owner_engine):
    with scratch_database(settings, owner_engine) as database:
        ensure_shadow(database.owner)
        with database.owner.connect() as connection:
            definer, config, public, app = connection.execute(text(
                "SELECT prosecdef, proconfig, has_function_privilege('public', oid, 'EXECUTE'), "
                "has_function_privilege('fathom_app', oid, 'EXECUTE') FROM pg_proc "
                f"WHERE oid = CAST('{SCHEMA}.analyse_replayed(text[])' AS regprocedure)")).one()
    assert (definer, config, public, app) == (True, ["search_path=pg_catalog, pg_temp"], False, True)
