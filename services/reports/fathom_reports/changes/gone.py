"""What a consumer is told when the position it asks for was pruned by retention: the change feed and a
webhook replay answer the same 410, so it is written once."""

from __future__ import annotations

from sqlalchemy import Connection

from fathom_reports.changes.store import PositionGone, require_kept
from fathom_shared.web.problems import Problem

GONE = ("The position is older than the notices kept (FATHOM_CHANGE_RETENTION_DAYS): `kept_after` is the oldest "
        "position still complete; re-read the read models, then follow from `last_notice`.")


def gone_problem(gone: PositionGone, field: str) -> Problem:
    """410 Gone naming the field, with where a consumer can go on from (as members a client can read)."""
    return Problem(
        410, "Gone",
        f"Notices up to {gone.kept_after} are no longer kept. Re-read the read models you follow, then "
        f"continue after notice {gone.last_notice} (or, to replay what is kept, after notice {gone.kept_after}).",
        errors={field: [f"Older than the oldest position kept (after notice {gone.kept_after})."]},
        extensions={"kept_after": gone.kept_after, "last_notice": gone.last_notice},
    )


def require_kept_or_gone(connection: Connection, after: int, field: str) -> None:
    """Refuse (410, naming ``field``) a position older than the notices kept: a replay from it would skip some."""
    try:
        require_kept(connection, after)
    except PositionGone as gone:
        raise gone_problem(gone, field) from gone
