"""What a reports worker has read of each stream for time travel, kept parsed: a later moment reads only what follows.

An auditor steps through a class's history moment by moment, and each past view replays the streams it needs from
the event store: at a million events, the benchmark's class read and parsed about 10,000 events a view, 43% of its
time (154 + 92 of 567 ms at the head, in-process, 2026-12-07). A trust's log only grows, and its sequences commit
in order (each append holds the trust's head until it commits), so once a snapshot has shown the head at H, a
stream's events up to H are what every later snapshot shows. So this keeps, per stream (a whole stream type, as
the framework's, or a named stream, as a pupil's), the events read up to some sequence, already parsed
(:func:`~fathom_shared.read_models.parsing.parse_batch`: upcast, validated, poison ones set aside); a view at
sequence S takes the kept ones up to S and reads only those after the kept sequence. Each view still folds and
writes its own scratch read models: nothing a view derives is shared, only the log.

Bounded by events kept (:data:`EVENTS_KEPT`), the streams least recently used dropped first. It is the worker's
own memory and holds only what a trust's own transactions read (the key names the trust). A restore of the
database to an earlier point gives sequences other events: restart the reports service after one (the README's
operations section says so), as for its kept bodies.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from fathom_shared.event_store import StreamKey, replay_streams
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.projection import Parsed, ParsedBatch, Rejected

EVENTS_KEPT = 30_000
"""Events a worker keeps parsed: about three classes' whole histories at the benchmark's million events (10,252
events, 18.6 MB of the worker's memory by ``tracemalloc``), some 55 MB."""

_Key = tuple[str, str, str | None]
"""(trust, stream type, stream id): ``None`` for a whole stream type."""
_Outcome = Parsed | Rejected


@dataclass
class _Kept:
    """A stream's events read up to ``until``, parsed, in sequence order."""

    until: int
    outcomes: list[_Outcome] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)

    def up_to(self, sequence: int) -> list[_Outcome]:
        return self.outcomes[:bisect_right(self.sequences, sequence)]


class PastEvents:
    """The streams a worker's past views read, parsed, up to where they were read (shared by its threads)."""

    def __init__(self, events_kept: int = EVENTS_KEPT) -> None:
        self._events_kept = events_kept
        self._kept: OrderedDict[_Key, _Kept] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def parsed(self, connection: Connection, trust_id: str, *, stream_types: Sequence[str] = (),
               streams: Iterable[StreamKey] = (), until: int) -> ParsedBatch:
        """The events of ``stream_types`` and ``streams`` up to ``until`` as :func:`parse_batch` gives them, read
        from the store only past what is kept. ``until`` must be at most the head the connection's snapshot shows
        (a past view's moment is)."""
        keys = [(trust_id, t, None) for t in stream_types] + [(trust_id, t, i) for t, i in streams]
        with self._lock:
            found = {key: kept for key in keys if (kept := self._kept.get(key)) is not None}
            for key in found:
                self._kept.move_to_end(key)
        reads: dict[int, list[_Key]] = {}  # read after -> the keys read from there
        for key in keys:
            kept = found.get(key)
            if kept is None or kept.until < until:
                reads.setdefault(0 if kept is None else kept.until, []).append(key)
        for after, stale in reads.items():
            found.update(self._read(connection, trust_id, stale, found, after, until))
        outcomes = sorted((o for key in keys for o in found[key].up_to(until)), key=_sequence)
        return ParsedBatch([o for o in outcomes if isinstance(o, Parsed)],
                           [o for o in outcomes if isinstance(o, Rejected)])

    def _read(self, connection: Connection, trust_id: str, keys: list[_Key], found: dict[_Key, _Kept], after: int,
              until: int) -> dict[_Key, _Kept]:
        """Read and parse the streams of ``keys`` after ``after``; keep them read up to ``until``."""
        events = replay_streams(connection, stream_types=[t for _, t, i in keys if i is None],
                                streams=[(t, i) for _, t, i in keys if i is not None], until=until, after=after)
        batch = parse_batch(events)
        whole_types = {t for _, t, i in keys if i is None}
        new: dict[_Key, list[_Outcome]] = {key: [] for key in keys}
        for outcome in sorted([*batch.parsed, *batch.rejected], key=_sequence):
            event = outcome.event
            stream_id = None if event.stream_type in whole_types else event.stream_id
            new[(trust_id, event.stream_type, stream_id)].append(outcome)
        read: dict[_Key, _Kept] = {}
        for key, outcomes in new.items():
            before = found[key] if after else _Kept(0)
            read[key] = _Kept(until, [*before.outcomes, *outcomes], [*before.sequences, *map(_sequence, outcomes)])
        self._keep(read)
        return read

    def _keep(self, read: dict[_Key, _Kept]) -> None:
        """Keep what was read unless another thread kept the stream further meanwhile; drop the least recently used
        streams beyond the bound."""
        with self._lock:
            for key, kept in read.items():
                current = self._kept.get(key)
                if current is not None:
                    if current.until >= kept.until:
                        continue
                    self._count -= len(current.outcomes)
                self._kept[key] = kept
                self._kept.move_to_end(key)
                self._count += len(kept.outcomes)
            while self._count > self._events_kept and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._count -= len(dropped.outcomes)

    def __len__(self) -> int:
        """Events kept."""
        return self._count


def _sequence(outcome: _Outcome) -> int:
    return outcome.event.sequence
