"""Server-sent events of a trust's change notices, resumable by notice id.

Why this shape: the stream reads ``change_notices`` (never a broker), so it can start at any
notice id a client names and it sees only what row-level security lets the caller's trust see.
Between reads it waits on the process's one LISTEN connection (``fathom_projected``, sent by the
projector after each commit), and re-reads every ``poll_s`` anyway in case a notification was
missed. A comment line goes out after ``heartbeat_s`` of silence so proxies and clients can
tell a quiet feed from a dead one. A stream ends after ``max_stream_s``: each open stream holds
one worker thread, so ending them lets clients (which reconnect with ``Last-Event-ID``, as
browsers' EventSource does) spread over workers and lets workers restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine

from fathom_reports.changes.store import Notice, PositionGone, read_kept_notices
from fathom_reports.loading.freshness import ProjectionListener, listener_for
from fathom_shared.db import TenantUnitOfWork

PAGE = 500


@dataclass
class ChangeFeed:
    """The reports service's change-feed settings and database handles (one per app)."""

    engine: Engine
    database_url: str
    heartbeat_s: float = 15.0
    poll_s: float = 5.0
    max_stream_s: float = 300.0
    retry_ms: int = 2000

    def read(self, trust_id: str, after: int, limit: int) -> list[Notice]:
        """Notices after ``after``; :class:`PositionGone` if some of them are no longer kept."""
        with TenantUnitOfWork(self.engine, trust_id) as uow:
            return read_kept_notices(uow.connection, after, limit)

    def listener(self) -> ProjectionListener:
        return listener_for(self.database_url)


def format_event(notice: Notice) -> str:
    """One SSE event: ``id`` is the notice id (what a client resumes from), ``event`` the model."""
    data = json.dumps(notice.to_json(), separators=(",", ":"), sort_keys=True)
    return f"id: {notice.notice_id}\nevent: {notice.model}\ndata: {data}\n\n"


def stream(feed: ChangeFeed, trust_id: str, after: int) -> Iterator[str]:
    """The events after notice ``after``, then each new one as it commits, until ``max_stream_s``."""
    listener = feed.listener()
    yield f"retry: {feed.retry_ms}\n\n"
    started = last_sent = time.monotonic()
    cursor = after
    while time.monotonic() - started < feed.max_stream_s:
        seen = listener.notified(trust_id)  # before the read: a later commit always wakes the wait
        try:
            notices = feed.read(trust_id, cursor, PAGE)
        except PositionGone:
            return  # retention overtook the stream: the client reconnects and is told where to resume (410)
        for notice in notices:
            yield format_event(notice)
            cursor = notice.notice_id
        if notices:
            last_sent = time.monotonic()
            continue
        if time.monotonic() - last_sent >= feed.heartbeat_s:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        quiet_left = feed.heartbeat_s - (time.monotonic() - last_sent)
        listener.wait(trust_id, seen + 1, seen, max(0.0, min(feed.poll_s, quiet_left)))
