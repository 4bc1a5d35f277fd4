"""Every statement of the background services and the less-travelled paths names its trust too.

:mod:`tests.integration.test_queries_filter_by_trust` covers the command API's appends, the projector's
catch-up and the reports service's reads. This module covers the rest, each area recorded on its own so a
failure names it: the relay, the projector's broker path, the catch-up sweep, the change-feed publisher and
retention, webhook registration, the real delivery worker (a refused attempt, its retry, a dead letter),
replay, time travel (with its fair-use lease), both rebuilds, erasure and roll-over, the API's other commands
and imports, and the web app's pages, sign-in and command forwarder. Each area must also have touched the
tables named in :data:`SEEN`, so an area whose work silently did nothing fails rather than passes.

The statements that read every trust (the relay's, the delivery loops' and the sweep's list of trusts,
retention's, the sign-in page's) read only ``trusts``, a reference table (see
:data:`tests.integration.test_sharding_by_trust.REFERENCE_TABLES`); no statement on a tenant table needs to
be cross-trust. Should one ever have to be, it goes in :data:`CROSS_TRUST` with the reason: only those exact
statements are let through, and each must still be sent and still be unrouted, so a stale entry fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from fathom_api.validation import school_today
from fathom_projector.metrics import ProjectorMetrics
from fathom_projector.online_rebuild import rebuild_online
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.shadow import ensure_shadow
from fathom_projector.sweep import CatchUpSweep
from fathom_projector.trust_batch import apply_trust_batch, catch_up_trust
from fathom_relay.relay import Relay
from fathom_reports import create_app as create_reports
from fathom_reports.changes.publisher import ChangePublisher
from fathom_reports.changes.retention import prune_all
from fathom_reports.loading.scratch import SCRATCH_KEYS
from fathom_reports.webhooks import store
from fathom_reports.webhooks.delivering import WebhookDeliverer
from fathom_reports.webhooks.secrets import secret_box
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import replay_events
from fathom_shared.trusts import create_trust
from tests.integration.test_assessment_calendar_api import POINTS
from tests.integration.test_commands_roster_import import oneroster, post_import
from tests.integration.test_queries_filter_by_trust import check, driver_statements
from tests.integration.test_rollover_api import next_years_roster, post_roster_rollover
from tests.integration.test_web_session import command_api, csrf_of, dev_sign_in, web_settings  # noqa: F401
from tests.support import SmallTrust, bearer, poster, summative_grid, token_for
from tests.webhook_receiver import Receiver

YEAR = "2026-27"
TODAY = school_today().isoformat()
CROSS_TRUST: dict[tuple[str, str], str] = {}
"""``(area, statement) -> why it must scan a tenant table across trusts``. Empty: none has to."""

Recorded = list[tuple[str, Any]]


@pytest.fixture(scope="module")
def record(app_engine) -> Iterator[tuple[dict[str, Recorded], Any]]:
    """``(areas, recording)``: ``areas[area]`` holds what the application role sent inside ``recording(area)``."""
    areas: dict[str, Recorded] = {}
    with driver_statements(str(app_engine.url.username)) as statements:

        @contextmanager
        def recording(area: str) -> Iterator[None]:
            start = len(statements)
            yield
            areas.setdefault(area, []).extend(statements[start:])

        yield areas, recording


@pytest.fixture(scope="module")
def one_trust(owner_engine) -> str:
    trust = f"sharded-{uuid.uuid4().hex[:10]}"
    create_trust(owner_engine, trust, "Sharded Academy Trust")
    return trust


@pytest.fixture(scope="module")
def imported_trust(owner_engine) -> str:
    trust = f"imported-{uuid.uuid4().hex[:10]}"
    create_trust(owner_engine, trust, "Imported Academy Trust")
    return trust


@pytest.fixture(scope="module")
def worked(record, one_trust, imported_trust, settings, app_engine, owner_engine, client,
           web_settings) -> dict[str, Recorded]:  # noqa: F811
    """The services' work for one small trust, area by area (module-scoped: done once for every test)."""
    areas, recording = record
    trust = one_trust
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    post = poster(client, leader)
    reports = create_reports(settings, app_engine).test_client()
    with recording("commands"):
        SmallTrust().create(post)
        post("/v1/classes/4A/staff", {"staff_sub": "ms-reid"})
        assert client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=leader).status_code == 200
        codes = post(*summative_grid("4A", YEAR, "autumn-1", ("p1", "EXS"), ("p2", "WTS")))["event_ids"]
        post(f"/v1/summative-judgements/{codes[0]}/correction", {"code": "GDS", "reason": "Moderated up"})
        post(f"/v1/summative-judgements/{codes[1]}/withdrawal", {"reason": "Wrong pupil"})
        post("/v1/standardised-scores", {"scores": [
            {"pupil_id": "p3", "test": "NFER Maths Autumn", "subject": "maths", "score": 101,
             "taken_on": "2026-11-20"}]})
        post("/v1/interventions", {"id": "boost", "name": "Boost", "lead": "ms-reid", "pupil_ids": ["p1"],
                                   "objective_ids": ["m4-1"], "start_date": "2026-11-02"})
        post("/v1/interventions/boost/pupils", {"add": ["p2"], "remove": [], "changed_on": "2026-11-09"})
        post(f"/v1/classes/4A/meetings/{YEAR}/autumn-2/decisions", {
            "id": "d-1", "kind": "teaching_change", "text": "Pre-teach vocabulary", "owner": "ms-reid",
            "review_point_id": "spring", "pupil_ids": ["p1"]})
        post("/v1/meeting-decisions/d-1/review", {"outcome": "done"})
        post("/v1/interventions/boost/end", {"end_date": "2026-12-04", "outcome": "Secure now"})
        marks = post("/v1/judgements", {"judgements": [
            {"pupil_id": p, "objective_id": "m4-1", "value": 2, "assessed_on": "2026-11-10"} for p in ("p3", "p5")]})
        post(f"/v1/judgements/{marks['event_ids'][0]}/correction", {"value": 3, "reason": "Mis-keyed"})
        post(f"/v1/judgements/{marks['event_ids'][1]}/withdrawal", {"reason": "Wrong pupil"})
        post("/v1/pupils/p6/move", {"class_id": "4B", "moved_on": "2026-12-01"})
        assert client.put("/v1/pupils/p1/report-comment", headers=leader, json={
            "academic_year": YEAR, "point_id": "autumn-1", "comment": "A good term"}).status_code in (200, 201)
    with recording("imports and roster roll-over"):  # on a trust of their own: a roster from OneRoster files
        importer = bearer(token_for(settings, imported_trust, ["trust_leader"], sub="head"))
        assert post_import(client, importer, oneroster()).status_code == 201
        scores = client.post("/v1/standardised-scores/import", headers=importer, content_type="text/csv",
                             data=f"pupil_id,test,subject,score,taken_on\ns1,KS2 reading,reading,98,{TODAY}\n")
        assert scores.status_code == 201, scores.json
        assert post_roster_rollover(client, importer, next_years_roster()).status_code == 201
    with recording("relay"):
        relay = Relay(settings, app_engine)
        try:
            assert relay.publish_pending(trust) > 0
        finally:
            relay.publisher.close()
    with recording("projector from the broker"):  # what the relay published, one message forged
        with TenantUnitOfWork(app_engine, trust) as uow:
            messages = replay_events(uow.connection)
        messages[-1] = replace(messages[-1], data={**messages[-1].data, "forged": True})
        batch = apply_trust_batch(app_engine, trust, messages)
        assert batch.applied and batch.forged, batch
    with recording("sweep"):
        CatchUpSweep(app_engine, ProjectorMetrics(), grace_s=0.0).run_once()
        catch_up_trust(app_engine, trust)
    with recording("change feed"):
        publisher = ChangePublisher(app_engine, settings.kafka_bootstrap_servers, f"fathom.changes.{trust}.", 1)
        try:
            assert publisher.publish_pending(trust) > 0
        finally:
            publisher.close()
        prune_all(app_engine, 1)
    with recording("webhooks"):
        made = reports.post("/v1/webhooks", headers=leader, json={"url": "https://receiver.example/hook"})
        assert made.status_code == 201, made.json
        webhook = uuid.UUID(made.json["id"])
        assert reports.get("/v1/webhooks", headers=leader).status_code == 200
        post("/v1/judgements", {"judgements": [
            {"pupil_id": "p4", "objective_id": "m4-1", "value": 3, "assessed_on": "2026-11-11"}]})
        catch_up_trust(app_engine, trust)
        box = secret_box(settings)
        with TenantUnitOfWork(app_engine, trust) as uow:  # what the delivery worker does, one step at a time
            assert store.due_webhooks(uow.connection) == [webhook]
            due = store.claim(uow.connection, webhook, box)
            assert due is not None
            store.failed(uow.connection, due, due.cursor + 1, "refused", retry_in_s=0.0)
            store.failed(uow.connection, due, due.cursor + 1, "refused", retry_in_s=None)
            store.delivered(uow.connection, webhook, due.cursor + 2)
            uow.commit()
        assert reports.get(f"/v1/webhooks/{webhook}/dead-letters", headers=leader).status_code == 200
        replayed = reports.post(f"/v1/webhooks/{webhook}/replay", headers=leader, json={"from_notice": 1})
        assert replayed.status_code == 202, replayed.json
        assert reports.delete(f"/v1/webhooks/{webhook}", headers=leader).status_code == 204
    with recording("webhook delivery"):  # the real worker: a refused attempt, its retry, a dead letter, then on
        receiver = Receiver(failures=2)
        made = reports.post("/v1/webhooks", headers=leader, json={"url": receiver.url, "models": ["judgements"]})
        assert made.status_code == 201, made.json
        post("/v1/judgements", {"judgements": [
            {"pupil_id": p, "objective_id": "m4-2", "value": 1, "assessed_on": "2026-11-12"} for p in ("p4", "p5")]})
        catch_up_trust(app_engine, trust)
        deliverer = WebhookDeliverer(app_engine, secret_box(settings), backoff_s=0.01, max_attempts=2, timeout_s=5,
                                     allow_loopback=True)
        try:
            deliverer.visit(trust)  # its workers retry and move on by themselves
            with receiver.condition:
                assert receiver.condition.wait_for(receiver.delivered, timeout=30), "a notice delivered"
        finally:
            deliverer.close(timeout_s=10)
            receiver.close()
    with recording("time travel"):
        auditor = bearer(token_for(settings, trust, ["auditor"], sub="auditor-1"))
        for path in ("/v1/classes/4A/analysis", "/v1/pupils/p3", "/v1/trust/analysis?year_group=4"):
            answer = reports.get(f"{path}{'&' if '?' in path else '?'}as_of=20", headers=auditor)
            assert answer.status_code == 200, (path, answer.json)
    ensure_shadow(owner_engine)  # the owner's step before any online rebuild
    with recording("rebuild"):
        rebuild_trust(app_engine, trust)
        rebuild_online(app_engine, trust)
    with recording("erasure and roll-over"):
        assert client.delete("/v1/pupils/p2/personal-data", headers=leader).status_code == 200
        assert client.delete("/v1/staff/ms-reid/personal-data", headers=leader).status_code == 200
        rolled = client.post("/v1/rollover", headers=leader, json={
            "from_year": YEAR, "to_year": "2027-28", "classes": {"4A": "5A", "4B": "5A"},
            "new_classes": [{"class_id": "5A", "school_id": "sch-1", "name": "5A", "year_group": 5}],
            "leavers": ["p8"], "effective_on": school_today().isoformat()})
        assert rolled.status_code == 201, rolled.json
        catch_up_trust(app_engine, trust)
    with recording("web"):
        web = create_reports(web_settings, app_engine).test_client()
        assert dev_sign_in(web, trust, "trust_leader").status_code == 303
        for page in ("/", "/classes/5A", "/classes/5A/meeting", "/trust", "/calendar"):
            assert web.get(page).status_code == 200, page
        forwarded = web.put(f"/api/v1/calendar/{YEAR}", json={"points": POINTS},
                            headers={"X-CSRF-Token": csrf_of(web)})
        assert forwarded.status_code == 200, forwarded.get_data(as_text=True)[:300]
    return areas


def scratch_tables() -> str:
    """Time travel's temporary tables, as its session creates them (``LIKE`` the live ones)."""
    return "".join(f"CREATE TEMPORARY TABLE {name} (LIKE public.{name}"
                   + (f", PRIMARY KEY ({', '.join(key)})" if key else "") + ") ON COMMIT DROP; "
                   for name, key in SCRATCH_KEYS.items())


SEEN = {  # area -> a table each area's work must have touched: the recording holds what it claims to
    "commands": ("trust_heads", "FROM classes", "FROM staff_identities"),
    "imports and roster roll-over": ("FROM classes", "trust_heads"),
    "relay": ("relay_positions",),
    "projector from the broker": ("broker_dead_letters",),
    "sweep": ("rm_positions",),
    "change feed": ("change_publish_positions", "DELETE FROM change_notices"),
    "webhooks": ("webhook_dead_letters", "UPDATE webhooks"),
    "webhook delivery": ("FOR UPDATE SKIP LOCKED", "INSERT INTO webhook_dead_letters"),
    "time travel": ("pg_temp.rm_positions", "fair_use_leases"),
    "rebuild": ("fathom_rebuild.",),
    "erasure and roll-over": ("personal_texts", "staff_identities"),
    "web": ("rm_schools", "staff_assignments"),
}
AREAS = tuple(SEEN)


@pytest.mark.parametrize("area", AREAS)
def test_every_statement_of_the_area_names_its_trust(worked, area, owner_engine, one_trust, imported_trust):
    setup = scratch_tables() if area == "time travel" else None  # the past is folded into temporary tables
    trust = imported_trust if area.startswith("imports") else one_trust
    unrouted, unplanned, planned = check(owner_engine, trust, worked[area], setup)
    assert planned > 0, "the recording saw the area's work"
    sent = " ".join(statement for statement, _ in worked[area])
    assert [table for table in SEEN[area] if table not in sent] == []
    allowed = {statement for (where, statement) in CROSS_TRUST if where == area}
    assert {s: scans for s, scans in unrouted.items() if s not in allowed} == {}
    assert unplanned == []
    assert allowed <= set(unrouted), "an allow-list entry names a statement no longer sent (or now routed)"
