"""Time travel keeps the streams it read, parsed, and reads only what follows: the views are the ones replayed whole.

The story (``audit_story``, sequences 1–20) plus 21: p7 moves from 4B into 4A; 22: p7 judged on m4-3; 23: a fourth
objective; 24: p3 judged on it. So a later moment of 4A names a pupil (p7) whose stream no earlier moment read, and
a whole stream type (the objectives) with a stream no earlier moment had.
"""

from __future__ import annotations

import random

import pytest

from fathom_reports import create_app as create_reports
from fathom_reports.loading import past_events, time_travel
from fathom_reports.loading.class_analysis import load_class_snapshot
from fathom_reports.loading.past_events import PastEvents
from fathom_reports.loading.time_travel import PastReadModels, past_engine
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.views.class_analysis import analyse_class
from fathom_shared.db import TenantUnitOfWork
from tests.integration.audit_story import Story, tell
from tests.support import bearer, token_for

HEAD = 24


@pytest.fixture
def story(client, settings, trust) -> Story:
    told = tell(client, settings, trust)
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    day = told.assessed_on.isoformat()

    def post(path: str, body: dict) -> None:
        answer = client.post(path, json=body, headers=leader)
        assert answer.status_code == 201, answer.json

    post("/v1/pupils/p7/move", {"class_id": "4A", "moved_on": day})
    post("/v1/judgements", {"judgements": [{"pupil_id": "p7", "objective_id": "m4-3", "value": 4, "assessed_on": day}]})
    post("/v1/objectives", {"id": "m4-4", "code": "Y4-M4", "subject": "maths", "year_group": 4, "strand": "number",
                            "text": "Objective 4", "scale_id": "esdm"})
    post("/v1/judgements", {"judgements": [{"pupil_id": "p3", "objective_id": "m4-4", "value": 2, "assessed_on": day}]})
    return told


def class_view(app_engine, trust: str, sequence: int, kept: PastEvents | None) -> dict | None:
    """4A's Class Analysis at ``sequence`` (None before the class was registered)."""
    with TenantUnitOfWork(past_engine(app_engine), trust) as uow:
        models = PastReadModels.at(uow.connection, trust, AsOf(sequence=sequence), kept)
        assert models.moment.sequence == sequence
        models.prepare_class("4A")
        snapshot = load_class_snapshot(uow.connection, trust, "4A", "teacher")
    return None if snapshot is None else analyse_class(snapshot)


@pytest.fixture
def reads(monkeypatch) -> list[tuple[int, list[int]]]:
    """Each read of the store through kept streams: (read after, the sequences it gave)."""
    made: list[tuple[int, list[int]]] = []
    read = past_events.replay_streams

    def spy(connection, **kwargs):
        events = read(connection, **kwargs)
        made.append((kwargs.get("after", 0), [e.sequence for e in events]))
        return events

    monkeypatch.setattr(past_events, "replay_streams", spy)
    monkeypatch.setattr(time_travel, "replay_streams", spy, raising=False)  # any read of its own
    return made


def test_every_moment_in_any_order_through_kept_streams_is_the_view_replayed_whole(app_engine, story):
    moments = list(range(1, HEAD + 1)) * 2
    random.Random(11).shuffle(moments)
    kept = PastEvents()
    for sequence in moments:
        assert class_view(app_engine, story.trust, sequence, kept) == class_view(app_engine, story.trust, sequence,
                                                                                  None), sequence
    assert class_view(app_engine, story.trust, HEAD, None)["heat_map"][-1]["pupil_id"] == "p7"  # the story holds


def test_a_later_moment_reads_only_what_follows_and_an_earlier_one_reads_nothing(app_engine, story, reads):
    kept = PastEvents()
    class_view(app_engine, story.trust, 20, kept)
    assert [after for after, _ in reads] == [0]
    assert max(reads[0][1]) <= 20
    reads.clear()

    class_view(app_engine, story.trust, HEAD, kept)
    by_after = dict(reads)
    assert set(by_after) == {0, 20}  # p7's stream, not read before, from the start; the rest past 20
    assert by_after[20] == [23, 24]  # the new objective's and p3's (21 and 22 are on p7's own stream)
    assert min(by_after[0]) < 20 and {21, 22} <= set(by_after[0])
    reads.clear()

    class_view(app_engine, story.trust, 18, kept)
    assert reads == []


def test_the_streams_kept_are_bounded_and_a_view_beyond_the_bound_is_still_whole(app_engine, story):
    kept = PastEvents(events_kept=6)
    for sequence in (HEAD, 19, HEAD):
        assert class_view(app_engine, story.trust, sequence, kept) == class_view(app_engine, story.trust, sequence,
                                                                                  None)
        assert len(kept) <= 6


def test_a_reports_worker_keeps_what_its_past_views_read_for_the_next(settings, app_engine, story, reads):
    reports = create_reports(settings, engine=app_engine).test_client()
    auditor = bearer(token_for(settings, story.trust, ["auditor"], sub="aud-1"))
    answers = {sequence: reports.get("/v1/classes/4A/analysis", query_string={"as_of": str(sequence)},
                                     headers=auditor) for sequence in (20, HEAD)}
    assert sorted(after for after, _ in reads) == [0, 0, 20]  # the second: p7's stream whole, the rest past 20
    for sequence, answer in answers.items():
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == class_view(app_engine, story.trust, sequence, None)  # as replayed whole


def test_a_pupils_past_profile_reads_the_pupils_stream_once(app_engine, story, reads):
    """Its classes are found in the pupil's own stream, which the replay then folds: read once, kept between."""
    with TenantUnitOfWork(past_engine(app_engine), story.trust) as uow:
        PastReadModels.at(uow.connection, story.trust, AsOf(sequence=HEAD), PastEvents()).prepare_pupil("p7")
    read = [sequence for _, sequences in reads for sequence in sequences]
    assert {21, 22} <= set(read)  # p7's move and judgement
    assert len(read) == len(set(read))
