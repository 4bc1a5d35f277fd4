"""Fair use: one caller (or one trust) must not take every worker with expensive reads.

Time travel, chain verification, full exports, change-feed streams and freshness waits each
hold a request thread for long or cost a lot. Before one starts, :meth:`FairUse.acquire` counts
the live leases of two buckets, the caller's (``<kind>:subject:<sub>``) and the trust's
(``<kind>:trust``), in ``fair_use_leases`` under a transaction advisory lock per bucket, and
refuses with ``429`` and ``Retry-After`` when either is full or the caller started too many in
the last minute. The count lives in PostgreSQL, so every gunicorn worker and thread (and every
reports instance) shares it; a lease carries its own expiry, so a worker killed mid-request
frees its slot by itself.

Endpoints opt in with :func:`limited` (one line above the view), or call :meth:`FairUse.hold`.

A lease is bookkeeping, not a record: its transactions commit without waiting for the WAL flush
(``synchronous_commit = off``, for them alone). Every freshness wait takes one and gives it back, two commits
that otherwise each waited for a disk flush in front of the read, under a lock the trust's other waits queue
on. What a database crash can lose is the last few hundred milliseconds of them: a lease that never counted,
or a release that did not stick, which the lease's own expiry ends as it ends a dead worker's.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, current_app
from sqlalchemy import Engine, text

from fathom_shared.auth import Principal
from fathom_shared.config import FairUseLimit
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.web.problems import Problem

FAIR_USE_EXTENSION = "fathom_reports.fair_use"
DEFAULT_HOLD_S = 300.0
"""How long a lease counts if its request never ends it (its process died)."""
RATE_WINDOW = "1 minute"
DESCRIPTIONS = {"as_of": "time-travel (as_of) reads", "verify": "chain verifications", "export": "full exports",
                "stream": "change-feed streams", "wait": "freshness waits (consistency)"}
F = TypeVar("F", bound=Callable[..., Any])
_ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"
"""``SET LOCAL synchronous_commit = off`` as an expression: for the lease's own transaction only (see the module
docstring), sent within the transaction's first statement rather than as a round trip of its own."""
_LOCK_BUCKETS = text(
    f"SELECT {_ASYNC_COMMIT}, (SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
    "FROM unnest(CAST(:keys AS text[])) AS k)")
"""Both buckets' locks, taken in the order given (the keys' order) by one statement."""
_COUNT_BUCKETS = text(
    # The leases that count for nothing any more, of every bucket of the trust, are deleted in the same statement
    # (the table stays small; migration 0029 finds them by their end). The count still sees them, but they are
    # neither live nor recent. Of the trust-wide bucket only the live leases are read (its rate is never asked):
    # the ended leases of the last minute are thousands at twenty waits a second, the live ones at most its limit.
    f"WITH expired AS (DELETE FROM fair_use_leases WHERE trust_id = :trust "
    f"AND held_until < now() - interval '{RATE_WINDOW}' AND started_at < now() - interval '{RATE_WINDOW}') "
    f"SELECT bucket, count(*) FILTER (WHERE held_until > now()) AS live, "
    f"count(*) FILTER (WHERE started_at > now() - interval '{RATE_WINDOW}') AS recent, "
    f"ceil(extract(epoch FROM min(started_at) FILTER (WHERE started_at > now() - interval "
    f"'{RATE_WINDOW}') + interval '{RATE_WINDOW}' - now())) AS window_left "
    f"FROM fair_use_leases WHERE trust_id = :trust "
    f"AND (bucket = :mine OR (bucket = :trust_wide AND held_until > now())) GROUP BY bucket")
_INSERT_LEASE = text(
    "INSERT INTO fair_use_leases (lease_id, trust_id, bucket, held_until) "
    "VALUES (:lease, :trust, :mine, now() + make_interval(secs => :hold)), "
    "(:lease, :trust, :trust_wide, now() + make_interval(secs => :hold))")
_RELEASE = text(
    f"UPDATE fair_use_leases SET held_until = now() FROM (SELECT {_ASYNC_COMMIT}) AS async_commit "
    "WHERE trust_id = :trust AND lease_id = :lease")


@dataclass(frozen=True)
class Lease:
    trust_id: str
    lease_id: str


class FairUse:
    """The limits of one service, enforced through the ``fair_use_leases`` table."""

    def __init__(self, engine: Engine, limits: dict[str, FairUseLimit], retry_after_s: int = 2) -> None:
        self._engine = engine
        self._limits = limits
        self._retry_after_s = retry_after_s

    def acquire(self, principal: Principal, kind: str, hold_s: float = DEFAULT_HOLD_S) -> Lease | None:
        """A lease on one ``kind`` of expensive read for ``principal``, or a 429 :class:`Problem`."""
        limit = self._limits.get(kind)
        if limit is None or (limit.per_subject, limit.per_trust, limit.per_minute) == (0, 0, 0):
            return None
        mine, trust_wide = f"{kind}:subject:{principal.sub}", f"{kind}:trust"
        lease = Lease(principal.trust_id, str(uuid.uuid4()))
        buckets = {"trust": principal.trust_id, "mine": mine, "trust_wide": trust_wide}
        with TenantUnitOfWork(self._engine, principal.trust_id) as uow:
            connection = uow.connection
            # One order everywhere (sorted): two requests never deadlock.
            connection.execute(_LOCK_BUCKETS, {"keys": [f"fair_use/{principal.trust_id}/{bucket}"
                                                        for bucket in sorted((mine, trust_wide))]})
            counts = {row.bucket: row for row in connection.execute(_COUNT_BUCKETS, buckets)}
            what = DESCRIPTIONS.get(kind, kind)
            if limit.per_subject and _live(counts, mine) >= limit.per_subject:
                self._refuse(f"You already have {limit.per_subject} {what} running; wait for one to finish.")
            if limit.per_trust and _live(counts, trust_wide) >= limit.per_trust:
                self._refuse(f"Your trust already has {limit.per_trust} {what} running; retry shortly.")
            if limit.per_minute and mine in counts and counts[mine].recent >= limit.per_minute:
                self._refuse(f"You started {limit.per_minute} {what} in the last minute, the most allowed.",
                             max(int(counts[mine].window_left or 1), 1))
            connection.execute(_INSERT_LEASE, {**buckets, "lease": lease.lease_id, "hold": hold_s})
            uow.commit_last()
        return lease

    def release(self, lease: Lease | None) -> None:
        """End the lease: it stops counting towards the concurrency limits (it still counts for the rate)."""
        if lease is None:
            return
        with TenantUnitOfWork(self._engine, lease.trust_id) as uow:
            uow.connection.execute(_RELEASE, {"trust": lease.trust_id, "lease": lease.lease_id})
            uow.commit_last()

    @contextlib.contextmanager
    def hold(self, principal: Principal, kind: str, hold_s: float = DEFAULT_HOLD_S) -> Iterator[None]:
        lease = self.acquire(principal, kind, hold_s)
        try:
            yield
        finally:
            self.release(lease)

    def _refuse(self, detail: str, retry_after_s: int | None = None) -> None:
        raise Problem(429, "Too Many Requests", detail,
                      headers={"Retry-After": str(retry_after_s or self._retry_after_s)})


def _live(counts: dict[str, Any], bucket: str) -> int:
    return int(counts[bucket].live) if bucket in counts else 0


def fair_use() -> FairUse:
    return current_app.extensions[FAIR_USE_EXTENSION]


def limited(kind: str, when: Callable[..., bool] | None = None,
            hold_s: Callable[[], float] | float = DEFAULT_HOLD_S) -> Callable[[F], F]:
    """Hold a ``kind`` lease while the view runs (and while a streamed answer is still being sent).

    Put it directly above the view, under ``@requires`` (it needs ``principal=``). ``when(*args, **kwargs)``
    says whether this call is the expensive kind (e.g. only when ``as_of`` is given).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if when is not None and not when(*args, **kwargs):
                return view(*args, **kwargs)
            limits = fair_use()
            lease = limits.acquire(kwargs["principal"], kind, hold_s() if callable(hold_s) else hold_s)
            try:
                response = view(*args, **kwargs)
            except BaseException:
                limits.release(lease)
                raise
            if isinstance(response, Response) and response.is_streamed:
                response.call_on_close(lambda: limits.release(lease))
            else:
                limits.release(lease)
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


def time_travel(*args: Any, as_of: Any = None, **kwargs: Any) -> bool:
    """``when=`` for views that replay the event store only when asked ``as_of``."""
    return as_of is not None
