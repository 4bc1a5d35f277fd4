"""The command-side reads a judgement batch makes: the pipelined pair answers exactly as the two reads alone."""

from __future__ import annotations

from fathom_api.command_tables import objectives_by_id, pupils_and_objectives, pupils_by_id
from fathom_shared.db import TenantUnitOfWork
from tests.support import SmallTrust, bearer, poster, token_for


def test_pupils_and_objectives_in_one_round_trip_are_the_two_reads_alone(client, settings, app_engine, make_trust):
    mine, other = make_trust("mine"), make_trust("other")
    small = SmallTrust().create(poster(client, bearer(token_for(settings, mine, ["trust_leader"], sub="head"))))
    SmallTrust(pupils_a=["q1"], pupils_b=["q2"], objectives=["x-1"]).create(
        poster(client, bearer(token_for(settings, other, ["trust_leader"], sub="head"))))
    pupil_ids = [*small.pupils_a, "p7", "q1", "nobody", small.pupils_a[0]]
    objective_ids = [*small.objectives, "x-1", "gone"]
    with TenantUnitOfWork(app_engine, mine) as uow:
        pupils, objectives = pupils_and_objectives(uow.connection, iter(pupil_ids), iter(objective_ids))
        alone = pupils_by_id(uow.connection, pupil_ids), objectives_by_id(uow.connection, objective_ids)
        assert pupils_and_objectives(uow.connection, [], []) == ({}, {})
    assert sorted(pupils) == sorted({*small.pupils_a, "p7"}) and sorted(objectives) == sorted(small.objectives)
    assert {k: tuple(v) for k, v in pupils.items()} == {k: tuple(v) for k, v in alone[0].items()}
    assert {k: tuple(v) for k, v in objectives.items()} == {k: tuple(v) for k, v in alone[1].items()}
    first = pupils[small.pupils_a[0]]
    assert (first.school_id, first.class_id, first.left_on) == (small.school, small.class_a, None)
    assert objectives[small.objectives[0]].retired is False and objectives[small.objectives[0]].bands
