"""Rendered read bodies against a real PostgreSQL: kept, revalidated (ETag / 304), compressed, bounded.

A kept body must be byte-identical to a fresh render, must follow every write the projector applies (and a
pupil's rename, which has no event), and must never reach a caller the access checks refuse — another
trust's reader with the very same ids and arguments, or a role that may not read the view.
"""

from __future__ import annotations

import gc
import gzip
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import fathom_reports.http.class_analysis as class_analysis_http
from fathom_reports import create_app
from fathom_reports.body_cache import Render, RenderedBodies
from fathom_reports.responses import BODIES_EXTENSION
from fathom_reports.schemas.class_analysis import ClassAnalysisQuerySchema
from fathom_shared.db import TenantUnitOfWork
from tests.integration.test_reports_api import ReadModelSeed, set_position
from tests.support import bearer, token_for

PATH = "/v1/classes/4a/analysis"


@pytest.fixture
def app(settings, app_engine):
    return create_app(settings, app_engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def bodies(app) -> RenderedBodies:
    return app.extensions[BODIES_EXTENSION]


def headers(settings, trust: str, *roles: str, classes=(), schools=(), **extra: str) -> dict[str, str]:
    return bearer(token_for(settings, trust, roles, classes=classes, schools=schools), **extra)


def seed_class(engine, trust: str, names: tuple[str, str] = ("Ada", "Lovelace"), value: int = 3,
               last_applied: int = 40) -> None:
    """Class 4a at school north with two pupils and twelve objectives (a body large enough to compress)."""
    seed = (ReadModelSeed(trust).school("north").school("south").klass("4a", "north").klass("4b", "north")
            .pupil("p1", "north", "4a", name=names).pupil("p2", "north", "4a", name=("Ben", "Okri"))
            .pupil("q1", "north", "4b", name=("Other", "Class"))
            .scale("edsm"))
    for n in range(12):
        seed.objective(f"ma{n}", f"MA4.{n}", "Maths", "edsm").judgement("p1", f"ma{n}", value)
        seed.judgement("p2", f"ma{n}", 1 + n % 4)
    seed.taught("4a", "ma1", date(2026, 10, 1))
    seed.write(engine, last_applied=last_applied)


def apply_judgement(engine, trust: str, pupil: str, objective: str, value: int, last_applied: int) -> None:
    """What the projector does: the read model's row and its position, in one transaction."""
    with TenantUnitOfWork(engine, trust) as uow:
        uow.connection.execute(text(
            "UPDATE rm_pupil_objective SET value = :v WHERE trust_id = :t AND pupil_id = :p AND objective_id = :o"),
            {"v": value, "t": trust, "p": pupil, "o": objective})
        set_position(uow.connection, trust, last_applied)
        uow.commit()


@pytest.fixture
def class_4a(app_engine, trust) -> str:
    seed_class(app_engine, trust)
    return "4a"


def test_a_kept_body_is_the_fresh_render_byte_for_byte(client, bodies, settings, app_engine, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    first = client.get(PATH, headers=leader)
    again = client.get(PATH, headers=leader)
    assert first.status_code == again.status_code == 200
    assert bodies.hits == 1 and len(bodies) == 1
    fresh = create_app(replace(settings, read_cache_bytes=0), app_engine).test_client().get(PATH, headers=leader)
    assert first.get_data() == again.get_data() == fresh.get_data()
    assert first.headers["ETag"] == again.headers["ETag"] == fresh.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-store"
    assert first.get_json()["pupils"][0]["name"] == "Ada Lovelace"


def test_a_write_the_projector_applies_changes_the_etag_and_the_body(client, settings, app_engine, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    before = client.get(PATH, headers=leader)
    apply_judgement(app_engine, trust, "p1", "ma0", 1, last_applied=41)
    after = client.get(PATH, headers=leader)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert (before.get_json()["sequence"], after.get_json()["sequence"]) == (40, 41)
    cells = {row["pupil_id"]: row["cells"] for row in after.get_json()["heat_map"]}
    assert cells["p1"]["ma0"]["value"] == 1
    # The caller's old tag is no longer current: the whole new body, not 304.
    revalidated = client.get(PATH, headers={**leader, "If-None-Match": before.headers["ETag"]})
    assert revalidated.status_code == 200 and revalidated.get_data() == after.get_data()


def test_a_rebuild_at_the_same_position_changes_the_etag(client, settings, app_engine, trust, class_4a):
    """A rebuild (e.g. of ``pupil_objective`` after a fix) replaces rows at an unchanged ``last_applied``."""
    leader = headers(settings, trust, "trust_leader")
    before = client.get(PATH, headers=leader)
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text("UPDATE rm_pupil_objective SET value = 1 WHERE trust_id = :t"), {"t": trust})
        set_position(uow.connection, trust, 40)  # what the rebuild's switch writes: the same position, stamped now
        uow.commit()
    after = client.get(PATH, headers=leader)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert {c["value"] for row in after.get_json()["heat_map"] for c in row["cells"].values()} == {1}


def test_a_consistency_wait_is_answered_from_the_position_it_reached(client, settings, app_engine, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    client.get(PATH, headers=leader)
    apply_judgement(app_engine, trust, "p1", "ma0", 2, last_applied=41)
    body = client.get(PATH, headers=leader, query_string={"consistency": "at_least:41"}).get_json()
    assert body["sequence"] == 41


@pytest.mark.parametrize(("path", "name_of"), [
    (PATH, lambda body: body["pupils"][0]["name"]),
    ("/v1/pupils/p1", lambda body: body["pupil"]["name"]),
])
def test_a_rename_without_an_event_changes_the_body(client, settings, app_engine, trust, class_4a, path, name_of):
    leader = headers(settings, trust, "trust_leader")
    before = client.get(path, headers=leader)
    assert client.get(path, headers={**leader, "If-None-Match": before.headers["ETag"]}).status_code == 304
    with TenantUnitOfWork(app_engine, trust) as uow:  # what a personal-details change does: no event at all
        uow.connection.execute(text("UPDATE pupil_personal SET family_name = 'King' WHERE pupil_id = 'p1'"))
        uow.commit()
    after = client.get(path, headers={**leader, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert name_of(after.get_json()) == "Ada King"


def test_a_read_builds_no_query_schema(client, settings, trust, class_4a, monkeypatch):
    """Each endpoint keeps one instance of its query schema: built per request (what webargs does when given the
    class), it cost about a seventh of a kept read's CPU in-process."""
    built = []
    build = ClassAnalysisQuerySchema.__init__
    monkeypatch.setattr(ClassAnalysisQuerySchema, "__init__",
                        lambda schema, *args, **kwargs: built.append(build(schema, *args, **kwargs)))
    leader = headers(settings, trust, "trust_leader")
    for _ in range(3):
        assert client.get(PATH, headers=leader, query_string={"source": "teacher"}).status_code == 200
    assert built == []


def test_a_write_not_yet_applied_changes_the_etag(client, settings, app_engine, trust, class_4a):
    """An erasure blanks texts when it is written, before the projector applies it: the head is in the key."""
    leader = headers(settings, trust, "trust_leader")
    before = client.get(PATH, headers=leader)
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text("UPDATE trust_heads SET last_sequence = 45 WHERE trust_id = :t"), {"t": trust})
        uow.commit()
    assert client.get(PATH, headers=leader).headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize("condition", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_a_current_tag_is_answered_304_without_a_body(client, settings, trust, class_4a, condition):
    leader = headers(settings, trust, "trust_leader")
    etag = client.get(PATH, headers=leader).headers["ETag"]
    response = client.get(PATH, headers={**leader, "If-None-Match": condition.format(etag=etag)})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.parametrize("condition", ['"other"', "not-a-tag", ""])
def test_another_tag_is_answered_in_full(client, settings, trust, class_4a, condition):
    leader = headers(settings, trust, "trust_leader")
    response = client.get(PATH, headers={**leader, "If-None-Match": condition})
    assert response.status_code == 200 and response.get_json()["class"]["id"] == "4a"


def test_a_kept_body_never_answers_another_trust(client, bodies, settings, app_engine, trust, make_trust, class_4a):
    other = make_trust("other")
    seed_class(app_engine, other, names=("Zed", "Abbot"), value=1)  # the same ids, arguments and position
    ours = client.get(PATH, headers=headers(settings, trust, "trust_leader"))
    theirs = client.get(PATH, headers=headers(settings, other, "trust_leader"))
    assert ours.status_code == theirs.status_code == 200
    assert theirs.get_json()["pupils"][0]["name"] == "Zed Abbot"
    assert ours.get_json()["pupils"][0]["name"] == "Ada Lovelace"
    assert ours.headers["ETag"] != theirs.headers["ETag"]
    assert bodies.hits == 0 and len(bodies) == 2
    # Our tag means nothing in their trust: they get their own body, not a 304.
    crossed = client.get(PATH, headers=headers(settings, other, "trust_leader", **{"If-None-Match": ours.headers[
        "ETag"]}))
    assert crossed.status_code == 200 and crossed.get_data() == theirs.get_data()
    # A trust without the class gets 404, whatever is kept for the same path elsewhere.
    empty = make_trust("empty")
    assert client.get(PATH, headers=headers(settings, empty, "trust_leader")).status_code == 404


def test_a_kept_body_never_answers_another_trust_whose_class_looks_the_same(client, bodies, settings, app_engine,
                                                                           trust, make_trust, class_4a):
    """Same ids, names, arguments, position and head: only the trust tells the two bodies apart."""
    twin = make_trust("twin")
    seed_class(app_engine, twin, value=1)  # the same pupils and names; other judgements
    for each in (trust, twin):  # and the same moment of the last write
        with TenantUnitOfWork(app_engine, each) as uow:
            uow.connection.execute(text("UPDATE rm_positions SET updated_at = '2026-12-01T00:00:00Z' "
                                        "WHERE trust_id = :t"), {"t": each})
            uow.commit()
    ours = client.get(PATH, headers=headers(settings, trust, "trust_leader"))
    theirs = client.get(PATH, headers=headers(settings, twin, "trust_leader"))
    assert ours.status_code == theirs.status_code == 200
    assert theirs.get_data() != ours.get_data() and theirs.headers["ETag"] != ours.headers["ETag"]
    assert bodies.hits == 0


def test_a_kept_body_never_answers_a_caller_the_access_checks_refuse(client, settings, trust, class_4a):
    leader = client.get(PATH, headers=headers(settings, trust, "trust_leader"))
    etag = leader.headers["ETag"]
    for refused in (headers(settings, trust, "teacher", classes=["4b"]),
                    headers(settings, trust, "school_leader", schools=["south"])):
        assert client.get(PATH, headers=refused).status_code == 403
        assert client.get(PATH, headers={**refused, "If-None-Match": etag}).status_code == 403
    assert client.get(PATH).status_code == 401
    teacher = client.get(PATH, headers=headers(settings, trust, "teacher", classes=["4a"]))
    assert teacher.status_code == 200 and teacher.get_data() == leader.get_data()


def test_gzip_round_trips_and_varies_by_accept_encoding(client, settings, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    plain = client.get(PATH, headers=leader)
    packed = client.get(PATH, headers={**leader, "Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in plain.headers["Vary"] and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.get_data()) < len(plain.get_data())
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["ETag"] != plain.headers["ETag"]  # a strong tag names one sequence of bytes
    refused = client.get(PATH, headers={**leader, "Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    again = client.get(PATH, headers={**leader, "Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]


def test_the_bound_on_memory_evicts(settings, app_engine, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    probe = create_app(settings, app_engine)
    probe.test_client().get(PATH, headers=leader)
    one = probe.extensions[BODIES_EXTENSION].bytes
    app = create_app(replace(settings, read_cache_bytes=one + one // 2), app_engine)  # room for one body
    client, bodies = app.test_client(), app.extensions[BODIES_EXTENSION]
    first = client.get(PATH, headers=leader)
    client.get(PATH, headers=leader, query_string={"subject": "Maths"})
    assert len(bodies) == 1 and bodies.evictions == 1 and bodies.bytes <= bodies.max_bytes
    again = client.get(PATH, headers=leader)  # rendered again, identical
    assert again.get_data() == first.get_data() and bodies.hits == 0


def test_csv_is_not_kept(client, bodies, settings, trust, class_4a):
    leader = headers(settings, trust, "trust_leader")
    csv = client.get(PATH, headers=leader, query_string={"format": "csv"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "ETag" not in csv.headers and csv.headers["Cache-Control"] == "private, no-store"
    assert len(bodies) == 0


# --- the other large views ----------------------------------------------------------------------

@pytest.mark.parametrize(("path", "query", "roles"), [
    ("/v1/schools/north/analysis", {"year_group": "4"}, ("school_leader",)),
    ("/v1/trust/analysis", {"year_group": "4"}, ("trust_leader",)),
    ("/v1/pupils/p1", {}, ("trust_leader",)),
])
def test_pooled_analyses_and_profiles_are_kept_and_follow_writes(client, bodies, settings, app_engine, trust,
                                                                 class_4a, path, query, roles):
    reader = headers(settings, trust, *roles, schools=["north"])
    first = client.get(path, headers=reader, query_string=query)
    again = client.get(path, headers=reader, query_string=query)
    assert first.status_code == 200 and again.get_data() == first.get_data() and bodies.hits == 1
    assert client.get(path, headers={**reader, "If-None-Match": first.headers["ETag"]},
                      query_string=query).status_code == 304
    apply_judgement(app_engine, trust, "p1", "ma0", 1, last_applied=41)
    after = client.get(path, headers={**reader, "If-None-Match": first.headers["ETag"]}, query_string=query)
    assert after.status_code == 200 and after.get_data() != first.get_data()


def test_a_school_leader_of_another_school_is_refused_a_kept_pooled_body(client, settings, trust, class_4a):
    path, query = "/v1/schools/north/analysis", {"year_group": "4"}
    assert client.get(path, headers=headers(settings, trust, "trust_leader"), query_string=query).status_code == 200
    south = headers(settings, trust, "school_leader", schools=["south"])
    assert client.get(path, headers=south, query_string=query).status_code == 403


# --- one render for readers that want the same body at the same moment ----------------------------

class ObservedBodies(RenderedBodies):
    """Tells the test when a request has found the body it wants being rendered by another."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.followed = threading.Event()

    def get_or_claim(self, key, turn=None):
        found = super().get_or_claim(key, turn)
        if isinstance(found, Render) and not found.leader:
            self.followed.set()
        return found


def held_first_render(monkeypatch, bodies: ObservedBodies, first_render_fails: bool = False) -> list[int]:
    """Class Analysis renders, counted; the first is held until a second request waits for it."""
    renders: list[int] = []
    render = class_analysis_http.analyse_class

    def held(snapshot, **filters):
        renders.append(snapshot.sequence)
        if len(renders) == 1:
            assert bodies.followed.wait(10), "no second request came to wait for this render"
            if first_render_fails:
                raise OperationalError("SELECT", {}, ConnectionError("the database went away mid-render"))
        return render(snapshot, **filters)

    monkeypatch.setattr(class_analysis_http, "analyse_class", held)
    return renders


def two_readers_at_once(app, reader: dict[str, str]) -> list:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda _: app.test_client().get(PATH, headers=reader), range(2)))


def test_readers_wanting_the_same_body_at_once_share_one_render(settings, app_engine, trust, class_4a, monkeypatch):
    app = create_app(settings, app_engine)
    bodies = app.extensions[BODIES_EXTENSION] = ObservedBodies(settings.read_cache_bytes)
    renders = held_first_render(monkeypatch, bodies)

    answers = two_readers_at_once(app, headers(settings, trust, "trust_leader"))

    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_data() == answers[1].get_data()
    assert answers[0].headers["ETag"] == answers[1].headers["ETag"]
    assert len(renders) == 1 and bodies.joined == 1


def test_a_reader_whose_shared_render_failed_renders_it_itself(settings, app_engine, trust, class_4a, monkeypatch):
    app = create_app(settings, app_engine)
    bodies = app.extensions[BODIES_EXTENSION] = ObservedBodies(settings.read_cache_bytes)
    renders = held_first_render(monkeypatch, bodies, first_render_fails=True)

    answers = two_readers_at_once(app, headers(settings, trust, "trust_leader"))

    assert sorted(a.status_code for a in answers) == [200, 503]
    assert len(renders) == 2


# --- renders of one live view take turns under a stream of writes ---------------------------------

class QueuedBodies(RenderedBodies):
    """Counts the requests told to wait for an earlier render of their view, and lets the test wait for them."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.changed = threading.Condition()

    def get_or_claim(self, key, turn=None):
        found = super().get_or_claim(key, turn)
        with self.changed:
            self.changed.notify_all()
        return found

    def wait_queued(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.queued >= count, 10)


def test_reads_after_writes_wait_for_the_views_render_and_share_the_next(settings, app_engine, trust, class_4a,
                                                                          monkeypatch):
    """Two saves land while a render of the class is in progress; the reads that wait for them are answered by
    one render after it (new enough for both), not one each beside it."""
    app = create_app(settings, app_engine)
    bodies = app.extensions[BODIES_EXTENSION] = QueuedBodies(settings.read_cache_bytes)
    renders: list[int] = []
    rendering, release = threading.Event(), threading.Event()
    render = class_analysis_http.analyse_class

    def held(snapshot, **filters):
        renders.append(snapshot.sequence)
        if len(renders) == 1:
            rendering.set()
            assert release.wait(10), "the test never released the first render"
        return render(snapshot, **filters)

    monkeypatch.setattr(class_analysis_http, "analyse_class", held)
    leader = headers(settings, trust, "trust_leader")

    def read(at_least: int | None):
        query = {} if at_least is None else {"consistency": f"at_least:{at_least}"}
        return app.test_client().get(PATH, headers=leader, query_string=query)

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(read, None)
        assert rendering.wait(10)
        apply_judgement(app_engine, trust, "p1", "ma0", 1, last_applied=41)
        second = pool.submit(read, 41)
        assert bodies.wait_queued(1)
        apply_judgement(app_engine, trust, "p1", "ma1", 1, last_applied=42)
        third = pool.submit(read, 42)
        assert bodies.wait_queued(2)
        release.set()
        answers = [first.result(), second.result(), third.result()]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["sequence"] for a in answers] == [40, 42, 42]
    assert answers[1].get_data() == answers[2].get_data()
    assert answers[1].headers["ETag"] == answers[2].headers["ETag"] != answers[0].headers["ETag"]
    assert renders == [40, 42]


def test_a_view_renders_with_the_cyclic_collector_paused_and_switched_back_on(client, settings, trust, class_4a,
                                                                             monkeypatch):
    """A Class Analysis builds tens of thousands of acyclic objects; collections walking them were about a third
    of a read's CPU (see fathom_shared.gc_pause)."""
    collector_during: list[bool] = []
    render = class_analysis_http.analyse_class

    def observed(snapshot, **filters):
        collector_during.append(gc.isenabled())
        return render(snapshot, **filters)

    monkeypatch.setattr(class_analysis_http, "analyse_class", observed)
    assert gc.isenabled()
    assert client.get(PATH, headers=headers(settings, trust, "trust_leader")).status_code == 200
    assert collector_during == [False]
    assert gc.isenabled()
