"""Rendered read bodies, kept per process and named by everything that decides them.

A Class Analysis of 30 pupils × 100 objectives is hundreds of KiB of JSON; building it again for every
reader, when nothing it shows has changed, costs far more than answering. So a read endpoint names its
body by a :class:`BodyKey` — the view, the trust, the path and query arguments, the read model's version
(the trust's applied position, its event-store head and the count of writes to its pupils' names, which are
edited without an event) and a fingerprint of what else the view shows that no event changes (which pupils the
caller may read) — and keeps the encoded body (and its gzip) in a :class:`RenderedBodies` bounded by bytes.
The same key always means the same bytes, so the ``ETag`` is a hash of the key: a ``304 Not Modified`` is
answered without loading or rendering anything.

When several requests want a body no one keeps yet — the readers a projector batch wakes together, each
having waited for its own write — one of them renders it and the others wait for that (:class:`Render`):
a body is rendered once per key and process however many ask at the same moment.

Under a steady stream of writes (a class saving twenty times a second, each save followed by a read that
waits for it) every read sees another position, so keys rarely repeat, and renders of one view piled up in a
worker, sharing its interpreter and making each other slower. So a read of the live view also says which
view it is (its :class:`Turn`), and renders of one view take turns: a request that finds a render of its view
in progress shares it when that render's snapshot was opened after the request arrived and has the position
it needs — an answer showing a state the read models passed through while the request was open, as if it had
been answered a moment later — and otherwise waits for it to end and tries again, when the next render (one
for all who waited) is sure to be new enough.

Nothing here touches Flask or the database: access is decided before a key is ever built, and a key
holds the trust, so one trust's body can never answer another's request.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GZIP_MIN_BYTES = 1024
"""Bodies smaller than this are sent as they are: compressing them saves less than it costs."""
GZIP_LEVEL = 1
"""Fastest: a 450 KiB Class Analysis compresses ~13× in ~2 ms (level 6: ~20× in ~5 ms), once per rendered body."""
ENTRY_OVERHEAD_BYTES = 512
"""What an entry costs besides its bodies (the key, the dict slot): counted so tiny bodies are bounded too."""


@dataclass(frozen=True)
class BodyKey:
    """Everything a cached body is a function of; equal keys mean byte-identical bodies.

    ``arguments``: the path and query arguments that shape the body, sorted by name. ``version``: the read
    model's applied position, the trust's head and its names' write count, then the view's fingerprint of what
    else no event changes.
    ``audience``: what about the caller changes the body (empty when every caller allowed to read the view at
    all sees the same body). ``code``: the rendering code's own version, so a deployment that renders
    differently never answers 304 to a body an older one rendered.
    """

    trust_id: str
    view: str
    arguments: tuple[tuple[str, str], ...]
    version: tuple[Any, ...]
    audience: str = ""
    code: str = ""

    @classmethod
    def of(cls, trust_id: str, view: str, arguments: Mapping[str, Any], version: tuple[Any, ...],
           audience: str = "", code: str = "") -> BodyKey:
        """The key, with ``arguments`` normalised (sorted; ``None`` left out; values as text)."""
        shown = tuple(sorted((name, str(value)) for name, value in arguments.items() if value is not None))
        return cls(trust_id, view, shown, tuple(version), audience, code)

    def etag(self) -> str:
        """A strong entity tag: the same for every process and restart that renders the same bytes."""
        material = json.dumps([self.code, self.trust_id, self.view, self.arguments, list(self.version),
                               self.audience], separators=(",", ":"), default=str)
        return '"' + hashlib.blake2b(material.encode(), digest_size=16).hexdigest() + '"'


@dataclass(frozen=True)
class RenderedBody:
    """A view's JSON bytes, and their gzip when the body is large enough to be worth compressing."""

    json: bytes
    gzipped: bytes | None = None

    @classmethod
    def of(cls, body: bytes) -> RenderedBody:
        """``body`` compressed once, here (``mtime=0``: the same bytes in every process)."""
        if len(body) < GZIP_MIN_BYTES:
            return cls(body)
        return cls(body, gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))

    @property
    def size(self) -> int:
        return len(self.json) + len(self.gzipped or b"") + ENTRY_OVERHEAD_BYTES


RENDER_WAIT_S = 10.0
"""How long a request waits for another's render of the body it wants before rendering it itself."""


@dataclass
class RenderOutcome:
    """What a leader's render came to, shared with its followers: set once, then ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    body: RenderedBody | None = None


@dataclass(frozen=True)
class Turn:
    """A read of a live view, for sharing a render of the same view at another position (see the module)."""

    view: tuple[Any, ...]
    """Everything that decides the body but the read model's version: trust, view, arguments, fingerprint."""
    arrived: float
    """``time.monotonic()`` when the request arrived."""
    opened: float
    """``time.monotonic()`` just before this request's snapshot was opened (so at or before its moment)."""
    position: int
    """The position this request's snapshot shows."""
    at_least: int = 0
    """The position the request asked for (``consistency=at_least:N``; 0 when it asked for none)."""


class Render:
    """A render in progress: ``leader`` renders and calls :meth:`RenderedBodies.finish`; others :meth:`wait`.

    A ``queued`` follower waits only for the render to end, then asks again (its snapshot was too early)."""

    def __init__(self, key: BodyKey, leader: bool, outcome: RenderOutcome | None = None,
                 queued: bool = False) -> None:
        self.key, self.leader, self.queued = key, leader, queued
        self._outcome = outcome if outcome is not None else RenderOutcome()

    def follower(self, queued: bool = False) -> Render:
        return Render(self.key, False, self._outcome, queued)

    def wait(self, timeout_s: float = RENDER_WAIT_S) -> RenderedBody | None:
        """The leader's body; None when it rendered none (it failed, or found nothing) or took too long."""
        self._outcome.done.wait(timeout_s)
        return self._outcome.body

    def _finish(self, body: RenderedBody | None) -> None:
        self._outcome.body = body
        self._outcome.done.set()


class RenderedBodies:
    """A least-recently-used map of :class:`BodyKey` → :class:`RenderedBody`, bounded by ``max_bytes``.

    Shared by a process's request threads (one lock, held only to look up or insert). ``max_bytes=0``
    keeps nothing. A body larger than the whole bound is not kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[BodyKey, RenderedBody] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[BodyKey, Render] = {}
        self._view_renders: dict[tuple[Any, ...], tuple[Render, Turn]] = {}
        """Per view (:attr:`Turn.view`): its render in progress, with the turn of the request leading it."""
        self.hits = self.misses = self.evictions = self.joined = self.queued = 0

    def get(self, key: BodyKey) -> RenderedBody | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return body

    def get_or_claim(self, key: BodyKey, turn: Turn | None = None) -> RenderedBody | Render:
        """The kept body; else a :class:`Render` — a follower's if ``key`` is being rendered, or (given the
        request's ``turn``) if its view is, by a render new enough for it, a queued follower's if its view is
        by an older one; else the leader's."""
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return body
            self.misses += 1
            render = self._rendering.get(key)
            if render is not None:
                self.joined += 1
                return render.follower()
            current = None if turn is None else self._view_renders.get(turn.view)
            if current is not None:
                other, led = current
                if led.opened >= turn.arrived and led.position >= turn.at_least:
                    self.joined += 1
                    return other.follower()
                self.queued += 1
                return other.follower(queued=True)
            render = self._rendering[key] = Render(key, leader=True)
            if turn is not None:
                self._view_renders[turn.view] = (render, turn)
            return render

    def finish(self, render: Render, body: RenderedBody | None) -> None:
        """The leader's end: keep ``body`` (when there is one) and hand it to the waiting followers."""
        if body is not None:
            self.put(render.key, body)
        with self._lock:
            if self._rendering.get(render.key) is render:
                del self._rendering[render.key]
            for view, (other, _) in list(self._view_renders.items()):
                if other is render:
                    del self._view_renders[view]
        render._finish(body)

    def put(self, key: BodyKey, body: RenderedBody) -> None:
        if body.size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous.size
            self._entries[key] = body
            self._bytes += body.size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size
                self.evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def none_match(if_none_match: str | None, etags: Iterable[str]) -> bool:
    """Whether ``If-None-Match`` names one of ``etags`` (RFC 9110 §13.1.2): ``*``, or a list of entity tags
    compared weakly (``W/"x"`` matches ``"x"``). A header that does not parse matches nothing, so the full
    answer is sent.
    """
    if if_none_match is None:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    position, tags = 0, []
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None or match.end() == position:
            return False
        tags.append(match.group(1))
        position = match.end()
    return any((etag[2:] if etag.startswith("W/") else etag) in tags for etag in etags)
