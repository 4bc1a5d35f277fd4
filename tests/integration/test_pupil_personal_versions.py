"""Every statement that writes a trust's pupils' personal details moves that trust's count, whoever sends it.

The reports name a rendered body by the count (a name changes without an event, so nothing else tells a kept
body that it shows an old name); a write path that did not move it would leave old names on screen.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fathom_shared.db import TenantUnitOfWork
from tests.support import SmallTrust, bearer, poster, rows_of, token_for


def count(engine: Engine, trust: str) -> int:
    return rows_of(engine, trust, "SELECT coalesce((SELECT version FROM pupil_personal_versions "
                                  "WHERE trust_id = current_setting('fathom.trust')), 0)")[0][0]


def written(engine: Engine, trust: str, sql: str) -> None:
    with TenantUnitOfWork(engine, trust) as uow:
        uow.connection.execute(text(sql))
        uow.commit()


def test_registering_renaming_and_erasing_pupils_each_move_the_trusts_count(client, settings, app_engine, trust,
                                                                            make_trust):
    other = make_trust("other")
    SmallTrust().create(poster(client, bearer(token_for(settings, other, ["trust_leader"]))))
    theirs = count(app_engine, other)
    assert count(app_engine, trust) == 0  # nothing written yet

    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    SmallTrust().create(poster(client, leader))  # eight pupils registered, one statement each
    registered = count(app_engine, trust)
    assert registered == 8

    written(app_engine, trust, "UPDATE pupil_personal SET family_name = 'King' WHERE pupil_id = 'p1'")
    assert count(app_engine, trust) == registered + 1
    written(app_engine, trust, "UPDATE pupil_personal SET upn = NULL")  # every pupil, in one statement
    assert count(app_engine, trust) == registered + 2

    assert client.delete("/v1/pupils/p2/personal-data", headers=leader).status_code == 200
    assert count(app_engine, trust) > registered + 2
    assert count(app_engine, other) == theirs  # the other trust's bodies keep


def test_a_trust_can_neither_move_nor_see_another_trusts_count(client, settings, app_engine, trust, make_trust):
    """The count names another trust's kept bodies: moving it would re-render them, reading it would tell when
    that trust's roster changed."""
    other = make_trust("other")
    SmallTrust().create(poster(client, bearer(token_for(settings, other, ["trust_leader"]))))
    theirs = count(app_engine, other)
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert uow.connection.execute(text("SELECT count(*) FROM pupil_personal_versions")).scalar_one() == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            uow.connection.execute(text("INSERT INTO pupil_personal_versions (trust_id, version) VALUES (:t, 1) "
                                        "ON CONFLICT (trust_id) DO UPDATE SET version = 99"), {"t": other})
    with TenantUnitOfWork(app_engine, trust) as uow:  # another trust's pupils are not this statement's rows
        uow.connection.execute(text("UPDATE pupil_personal SET family_name = 'X' WHERE trust_id = :t"), {"t": other})
        uow.commit()
    assert count(app_engine, other) == theirs and count(app_engine, trust) == 0  # it wrote no row at all
