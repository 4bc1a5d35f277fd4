"""A past class view finds the pupils ever in the class through an index the application role can use.

Under row-level security PostgreSQL uses a condition as an index condition ahead of the tenant policy
only if it is leakproof; ``data->>'class_id'`` is not, so the expression index on it is never used by
the services, and without an index of the membership events every past view read the whole ``events``
table. The plan is read with sequential scans switched off, so the answer does not depend on how few
events a test database holds.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, text

from fathom_reports.loading.time_travel import membership_filter, pupils_ever_in
from fathom_shared.db import TenantUnitOfWork
from tests.rebuild_support import history


def test_the_pupils_ever_in_a_class_are_found_through_the_membership_index(app_engine: Engine, trust: str) -> None:
    history(app_engine, trust, judgement_count=1000)
    with TenantUnitOfWork(app_engine, trust) as uow:
        connection = uow.connection
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        where, params = membership_filter(["c1"], 10**9).where()
        plan = connection.execute(text(f"EXPLAIN (FORMAT JSON) SELECT sequence FROM events WHERE {where}"),
                                  params).scalar_one()
        assert "events_memberships" in json.dumps(plan), plan
        assert pupils_ever_in(connection, ["c1"], 10**9) == sorted(f"p{n}" for n in range(0, 40, 2))
