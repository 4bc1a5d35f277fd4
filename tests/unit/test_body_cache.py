"""Rendered read bodies: the key and its ETag, If-None-Match matching, gzip, the bytes-bounded LRU, and one
render per key for requests that want it at the same moment."""

from __future__ import annotations

import gzip

import pytest

from fathom_reports.body_cache import (
    ENTRY_OVERHEAD_BYTES,
    GZIP_MIN_BYTES,
    BodyKey,
    Render,
    RenderedBodies,
    RenderedBody,
    Turn,
    none_match,
)


def key(trust: str = "t1", version: tuple = (10, 12, "names"), **arguments: object) -> BodyKey:
    return BodyKey.of(trust, "class_analysis", {"class_id": "4a", **arguments}, version, code="c1")


# --- the key and its ETag -------------------------------------------------------------------------

def test_equal_arguments_in_any_order_are_one_key_and_one_etag():
    first = BodyKey.of("t1", "v", {"a": 1, "b": None, "c": "x"}, (1, 2), code="c1")
    second = BodyKey.of("t1", "v", {"c": "x", "a": "1"}, (1, 2), code="c1")
    assert first == second and hash(first) == hash(second)
    assert first.etag() == second.etag()


@pytest.mark.parametrize("other", [
    key(trust="t2"),                          # another trust, same ids and arguments
    key(version=(11, 12, "names")),           # the projector applied more
    key(version=(10, 13, "names")),           # a write not applied yet (erasures blank texts at once)
    key(version=(10, 12, "renamed")),         # a pupil renamed (no event)
    key(subject="maths"),                     # another filter
    BodyKey.of("t1", "class_analysis", {"class_id": "4a"}, (10, 12, "names"), audience="teacher:4a", code="c1"),
    BodyKey.of("t1", "class_analysis", {"class_id": "4a"}, (10, 12, "names"), code="c2"),  # other code
    BodyKey.of("t1", "pupil_profile", {"class_id": "4a"}, (10, 12, "names"), code="c1"),   # other view
])
def test_anything_that_decides_the_body_changes_the_key_and_the_etag(other):
    assert other != key()
    assert other.etag() != key().etag()


def test_the_etag_is_strong_quoted_and_stable():
    etag = key().etag()
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert etag == BodyKey.of("t1", "class_analysis", {"class_id": "4a"}, (10, 12, "names"), code="c1").etag()


def test_argument_values_cannot_run_into_each_other():
    assert BodyKey.of("t", "v", {"a": "1,b"}, ()).etag() != BodyKey.of("t", "v", {"a": "1", "b": ""}, ()).etag()


# --- If-None-Match --------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "matches"), [
    (None, False),
    ('"abc"', True),
    ('W/"abc"', True),                        # weak comparison
    ('"x", "abc"', True),
    ('"x",W/"abc" ', True),
    ('"x", "y"', False),
    ("*", True),
    (" * ", True),
    ('"ab"', False),
    ("abc", False),                           # not an entity tag: no match, the full answer is sent
    ('"abc', False),
    ("", False),
])
def test_if_none_match_compares_weakly(header, matches):
    assert none_match(header, ['"abc"']) is matches


def test_if_none_match_matches_any_of_the_representations():
    assert none_match('"abc-gzip"', ['"abc"', '"abc-gzip"'])
    assert not none_match('"abd-gzip"', ['"abc"', '"abc-gzip"'])


# --- gzip -----------------------------------------------------------------------------------------

def test_a_large_body_is_compressed_once_and_round_trips():
    body = b'{"heat_map":[' + b'{"value":3,"label":"Secure"},' * 200 + b"{}]}"
    rendered = RenderedBody.of(body)
    assert rendered.gzipped is not None and len(rendered.gzipped) < len(body) // 5
    assert gzip.decompress(rendered.gzipped) == body
    assert RenderedBody.of(body).gzipped == rendered.gzipped  # no timestamp: the same bytes every time


def test_a_small_body_is_not_compressed():
    assert RenderedBody.of(b"x" * (GZIP_MIN_BYTES - 1)).gzipped is None


# --- the bytes-bounded LRU ------------------------------------------------------------------------

def body_of(size: int) -> RenderedBody:
    return RenderedBody(b"x" * size)


def test_get_answers_what_was_put_under_exactly_that_key():
    bodies = RenderedBodies(10_000)
    bodies.put(key(), body_of(10))
    assert bodies.get(key()) == body_of(10)
    assert bodies.get(key(trust="t2")) is None
    assert (bodies.hits, bodies.misses) == (1, 1)


def test_the_least_recently_used_body_is_evicted_to_stay_within_the_bound():
    size = 1000
    bodies = RenderedBodies(3 * (size + ENTRY_OVERHEAD_BYTES))
    a, b, c, d = (key(version=(n, n, "")) for n in range(4))
    for k in (a, b, c):
        bodies.put(k, body_of(size))
    assert bodies.get(a) is not None  # a is now the most recently used: b goes first
    bodies.put(d, body_of(size))
    assert b not in bodies and {a, c, d} <= {k for k in (a, b, c, d) if k in bodies}
    assert bodies.bytes <= bodies.max_bytes and bodies.evictions == 1


def test_replacing_a_body_counts_its_bytes_once():
    bodies = RenderedBodies(10_000)
    bodies.put(key(), body_of(100))
    bodies.put(key(), body_of(200))
    assert len(bodies) == 1 and bodies.bytes == 200 + ENTRY_OVERHEAD_BYTES


def test_a_body_larger_than_the_bound_is_not_kept_and_a_zero_bound_keeps_nothing():
    bodies = RenderedBodies(1000)
    bodies.put(key(), body_of(2000))
    assert len(bodies) == 0 and bodies.bytes == 0
    nothing = RenderedBodies(0)
    nothing.put(key(), body_of(1))
    assert nothing.get(key()) is None


def test_gzip_bytes_count_towards_the_bound():
    rendered = RenderedBody.of(b"abc" * 1000)
    assert rendered.size == 3000 + len(rendered.gzipped or b"") + ENTRY_OVERHEAD_BYTES


def test_clear_empties():
    bodies = RenderedBodies(10_000)
    bodies.put(key(), body_of(10))
    bodies.clear()
    assert len(bodies) == 0 and bodies.bytes == 0


# --- one render per key at a time -----------------------------------------------------------------

def test_a_body_being_rendered_is_waited_for_not_rendered_again():
    bodies = RenderedBodies(10_000)
    leader = bodies.get_or_claim(key())
    follower = bodies.get_or_claim(key())
    assert isinstance(leader, Render) and leader.leader
    assert isinstance(follower, Render) and not follower.leader

    bodies.finish(leader, body_of(10))

    assert follower.wait(0) == body_of(10)
    assert bodies.get_or_claim(key()) == body_of(10)  # kept: the next request is answered at once
    assert bodies.joined == 1


def test_another_key_is_rendered_beside_it():
    bodies = RenderedBodies(10_000)
    bodies.get_or_claim(key())
    other = bodies.get_or_claim(key(trust="t2"))
    assert isinstance(other, Render) and other.leader


def test_when_the_leader_renders_nothing_followers_are_told_so_and_the_next_request_leads():
    bodies = RenderedBodies(10_000)
    leader = bodies.get_or_claim(key())
    follower = bodies.get_or_claim(key())
    assert isinstance(leader, Render) and isinstance(follower, Render)

    bodies.finish(leader, None)

    assert follower.wait(0) is None
    again = bodies.get_or_claim(key())
    assert isinstance(again, Render) and again.leader


def test_a_follower_that_waits_too_long_gets_nothing():
    bodies = RenderedBodies(10_000)
    bodies.get_or_claim(key())
    follower = bodies.get_or_claim(key())
    assert isinstance(follower, Render) and follower.wait(0) is None


def test_with_nothing_kept_the_leader_still_hands_its_body_to_the_followers():
    bodies = RenderedBodies(0)
    leader = bodies.get_or_claim(key())
    follower = bodies.get_or_claim(key())
    assert isinstance(leader, Render) and isinstance(follower, Render)
    bodies.finish(leader, body_of(10))
    assert follower.wait(0) == body_of(10) and len(bodies) == 0


# --- renders of one live view take turns ---------------------------------------------------------

VIEW = ("t1", "class_analysis", (("class_id", "4a"),), ("names",))


def turn(arrived: float, opened: float, position: int, at_least: int = 0) -> Turn:
    return Turn(VIEW, arrived, opened, position, at_least)


def test_a_render_of_the_view_opened_after_the_request_arrived_is_shared():
    bodies = RenderedBodies(10_000)
    leader = bodies.get_or_claim(key(version=(41, 41, "names")), turn(arrived=1.0, opened=2.0, position=41))
    later = bodies.get_or_claim(key(version=(42, 42, "names")), turn(arrived=1.5, opened=3.0, position=42,
                                                                         at_least=41))
    assert isinstance(leader, Render) and leader.leader
    assert isinstance(later, Render) and not later.leader and not later.queued
    assert later.key == leader.key  # answered with the shared render's version (and ETag)
    bodies.finish(leader, body_of(10))
    assert later.wait(0) == body_of(10)


@pytest.mark.parametrize(("arrived", "at_least"), [(2.5, 0), (1.5, 42)],
                         ids=["render opened before the request arrived", "render older than the request needs"])
def test_a_render_too_early_for_the_request_is_waited_for_then_asked_again(arrived, at_least):
    bodies = RenderedBodies(10_000)
    leader = bodies.get_or_claim(key(version=(41, 41, "names")), turn(arrived=1.0, opened=2.0, position=41))
    waiting = bodies.get_or_claim(key(version=(42, 42, "names")), turn(arrived, opened=3.0, position=42,
                                                                           at_least=at_least))
    assert isinstance(waiting, Render) and waiting.queued and bodies.queued == 1
    bodies.finish(leader, body_of(10))
    again = bodies.get_or_claim(key(version=(42, 42, "names")), turn(arrived, opened=4.0, position=42,
                                                                         at_least=at_least))
    assert isinstance(again, Render) and again.leader  # the view's render ended: the next one is its own


def test_another_view_or_a_read_without_a_turn_renders_beside_it():
    bodies = RenderedBodies(10_000)
    bodies.get_or_claim(key(version=(41, 41, "names")), turn(arrived=1.0, opened=2.0, position=41))
    other_view = Turn(("t1", "class_analysis", (("class_id", "4b"),), ("names",)), 2.5, 3.0, 42)
    assert bodies.get_or_claim(key(version=(42, 42, "names"), class_id="4b"), other_view).leader
    assert bodies.get_or_claim(key(version=(43, 43, "names"))).leader
