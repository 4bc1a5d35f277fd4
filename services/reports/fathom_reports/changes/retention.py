"""Change notices are kept for ``FATHOM_CHANGE_RETENTION_DAYS`` (90 by default), then deleted.

Why like this: the feed is for following changes, not an archive (the event store is the
archive, and the read models the current state), and a notice carries read-model rows, which
must not outlive their purpose. Deletion is always of the *oldest* notices, so what is kept is
one unbroken run and a reader's position is either fully served or refused with 410 Gone
(:func:`fathom_reports.changes.store.read_kept_notices`) — never silently skipped. A notice
is deleted only once the topic publisher has sent it, so a broker outage longer than the
retention loses nothing from the per-trust topics (whose own ``retention.ms`` matches). The
delivery process prunes every trust every ``PRUNE_EVERY_S``, in batches of ``PRUNE_BATCH`` rows,
each its own short transaction, so the projector's inserts never wait behind a long delete.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text

from fathom_shared.db import TenantUnitOfWork
from fathom_shared.trusts import all_trust_ids

log = logging.getLogger("fathom.retention")

PRUNE_BATCH = 5000
PRUNE_EVERY_S = 600.0

_TRUST = "current_setting('fathom.trust', true)"

_PRUNABLE_THROUGH = text(
    # The first notice still young ends the run that may go (ids rise with time); with none young,
    # everything up to the newest may. Never past what the topic publisher has sent.
    "SELECT least("
    f" coalesce((SELECT notice_id - 1 FROM change_notices WHERE trust_id = {_TRUST}"
    "            AND recorded_at >= now() - make_interval(days => :days) ORDER BY notice_id LIMIT 1),"
    f"          (SELECT last_notice FROM change_heads WHERE trust_id = {_TRUST}), 0),"
    f" coalesce((SELECT published_notice FROM change_publish_positions WHERE trust_id = {_TRUST}), 0))"
)

_DELETE_BATCH = text(
    f"DELETE FROM change_notices WHERE trust_id = {_TRUST} AND notice_id IN ("
    f" SELECT notice_id FROM change_notices WHERE trust_id = {_TRUST} AND notice_id <= :through"
    " ORDER BY notice_id LIMIT :batch)"
)


def prune_trust(engine: Engine, trust_id: str, retention_days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete the trust's notices older than ``retention_days`` (and already published); return how many."""
    check_retention(retention_days)
    with TenantUnitOfWork(engine, trust_id) as uow:
        through = int(uow.connection.execute(_PRUNABLE_THROUGH, {"days": retention_days}).scalar_one())
    deleted = 0
    while True:
        with TenantUnitOfWork(engine, trust_id) as uow:
            count = uow.connection.execute(_DELETE_BATCH, {"through": through, "batch": batch}).rowcount
            uow.commit()
        deleted += count
        if count < batch:
            return deleted


def check_retention(retention_days: int) -> None:
    if retention_days < 1:
        raise ValueError(f"FATHOM_CHANGE_RETENTION_DAYS must be at least 1, not {retention_days}")


def prune_all(engine: Engine, retention_days: int, batch: int = PRUNE_BATCH) -> int:
    total = 0
    for trust_id in all_trust_ids(engine):
        deleted = prune_trust(engine, trust_id, retention_days, batch)
        if deleted:
            log.info("deleted %d change notices of %s older than %d days", deleted, trust_id, retention_days)
        total += deleted
    return total


def run_retention(engine: Engine, retention_days: int, stop: threading.Event,
                  every_s: float = PRUNE_EVERY_S) -> None:
    """Prune every ``every_s`` until ``stop``; a failure (database down) is logged and retried next time."""
    check_retention(retention_days)
    while not stop.is_set():
        try:
            prune_all(engine, retention_days)
        except Exception:
            log.exception("pruning change notices failed; retrying in %.0fs", every_s)
        stop.wait(every_s)
