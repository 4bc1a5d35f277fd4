"""The pipeline's positions as Prometheus gauges: per trust, appended, published, projected and the lags between,
read from the real stores the relay and the projector move (row-level security holding: one trust's figures
never include another's)."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import CollectorRegistry
from sqlalchemy import make_url, text

from fathom_projector.trust_batch import catch_up_trust
from fathom_relay.relay import Relay
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.event_store import NewEvent, append_events
from fathom_shared.pipeline_positions import PipelineCollector


def append_taught(app_engine, trust: str, count: int) -> None:
    with TenantUnitOfWork(app_engine, trust) as uow:
        append_events(uow.connection, trust, [
            NewEvent("class", "c1", "ObjectiveTaught", {"class_id": "c1", "objective_id": f"o{i}",
                                                        "taught_on": "2026-10-01"})
            for i in range(count)], {"sub": "t"})
        uow.commit()


def gauges(registry: CollectorRegistry, trust: str) -> dict[str, float | None]:
    names = ("events_head_sequence", "relay_published_sequence", "projector_applied_sequence",
             "relay_backlog_events", "projector_lag_events", "projector_lag_seconds")
    return {name: registry.get_sample_value(f"fathom_{name}", {"trust": trust}) for name in names}


def test_positions_follow_each_trust_through_the_relay_and_the_projector(settings, app_engine, make_trust):
    busy, quiet = make_trust("busy"), make_trust("quiet")
    registry = CollectorRegistry()
    registry.register(PipelineCollector(app_engine))
    append_taught(app_engine, busy, 7)

    appended = gauges(registry, busy)
    waited = appended.pop("projector_lag_seconds")
    assert appended == {"events_head_sequence": 7, "relay_published_sequence": 0, "projector_applied_sequence": 0,
                        "relay_backlog_events": 7, "projector_lag_events": 7}
    with TenantUnitOfWork(app_engine, busy) as uow:
        oldest_age = uow.connection.execute(text(
            "SELECT extract(epoch FROM clock_timestamp() - min(recorded_at)) FROM events WHERE trust_id = :t"),
            {"t": busy}).scalar()
    assert waited is not None and 0 < waited <= oldest_age
    assert gauges(registry, quiet) == dict.fromkeys(gauges(registry, busy), 0)

    Relay(replace(settings, events_topic=f"{settings.events_topic}.positions"), app_engine).publish_pending(busy)
    published = gauges(registry, busy)
    assert (published["relay_published_sequence"], published["relay_backlog_events"]) == (7, 0)
    assert published["projector_lag_events"] == 7

    catch_up_trust(app_engine, busy)
    projected = gauges(registry, busy)
    assert (projected["projector_applied_sequence"], projected["projector_lag_events"],
            projected["projector_lag_seconds"]) == (7, 0, 0)


def test_a_scrape_while_the_database_is_down_leaves_out_the_positions_only(settings):
    unreachable = make_engine(make_url(settings.app_database_url).set(port=9).render_as_string(hide_password=False),
                              pool_size=1)
    registry = CollectorRegistry()
    registry.register(PipelineCollector(unreachable))
    assert registry.get_sample_value("fathom_events_head_sequence", {"trust": "any"}) is None
    unreachable.dispose()
