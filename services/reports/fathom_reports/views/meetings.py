"""Meeting decisions as readers see them: each with its review point's dates and whether it is overdue.

A decision is *overdue* when its review point has ended (by the school's clock) and nobody has reviewed it:
the point's dates are the trust's calendar as it is now, so moving a term's dates moves what is overdue.
Pure: the calendar comes as :data:`~fathom_shared.assessment_calendar.PointsOf`, "today" as a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from fathom_shared.assessment_calendar import PointInYear, PointsOf, locate, previous_point

STATUSES = ("open", "overdue", "reviewed")


def review_status(row: Mapping[str, Any], review_ends_on: date | None, today: date) -> str:
    """``reviewed`` once it has an outcome; ``overdue`` when its review point ended before today; else ``open``.

    A review point no longer in the calendar (the trust changed the year's points) has no end: never overdue."""
    if row["outcome"] is not None:
        return "reviewed"
    return "overdue" if review_ends_on is not None and review_ends_on < today else "open"


def decision_view(row: Mapping[str, Any], points_of: PointsOf, today: date) -> dict[str, Any]:
    """One decision: what, who owns it, the pupils it names, its review point and, once reviewed, the review."""
    review = locate(points_of, row["review_academic_year"], row["review_point_id"])
    ends_on = review.point.ends_on if review is not None else None
    return {
        "decision_id": row["decision_id"], "scope": row["scope"], "scope_id": row["scope_id"],
        "school_id": row["school_id"], "class_id": row["class_id"], "academic_year": row["academic_year"],
        "point_id": row["point_id"], "kind": row["kind"], "text": row["text"], "owner": row["owner"],
        "pupil_ids": list(row["pupil_ids"] or []), "intervention_id": row["intervention_id"],
        "recorded_by": row["recorded_by"], "recorded_at": _iso(row["recorded_at"]),
        "review_point": {"academic_year": row["review_academic_year"], "point_id": row["review_point_id"],
                         "name": review.point.name if review else None,
                         "ends_on": ends_on.isoformat() if ends_on else None},
        "status": review_status(row, ends_on, today),
        "review": None if row["outcome"] is None else {
            "outcome": row["outcome"], "note": row["review_note"], "reviewed_by": row["reviewed_by"],
            "reviewed_at": _iso(row["reviewed_at"])},
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def decisions_view(rows: Iterable[Mapping[str, Any]], points_of: PointsOf, today: date,
                   overdue: bool = False) -> list[dict[str, Any]]:
    """The decisions in the order given; only the overdue ones with ``overdue``."""
    views = [decision_view(row, points_of, today) for row in rows]
    return [view for view in views if view["status"] == "overdue"] if overdue else views


def point_view(at: PointInYear | None) -> dict[str, Any] | None:
    return None if at is None else {"academic_year": at.academic_year, **at.point.view()}


def meeting_view(class_id: str, school_id: str, at: PointInYear, points_of: PointsOf, today: date,
                 rows: Mapping[str, Sequence[Mapping[str, Any]]], sequence: int) -> dict[str, Any]:
    """A class's meeting at a point: its decisions, the previous meeting's (the point before, across academic
    years) with what became of them, and every decision of the class due for review at this point.

    ``rows``: ``this``, ``previous`` and ``due_here`` decision rows."""
    return {
        "class_id": class_id, "school_id": school_id, "academic_year": at.academic_year,
        "point": point_view(at), "sequence": sequence,
        "decisions": decisions_view(rows["this"], points_of, today),
        "previous_meeting": {"point": point_view(previous_point(points_of, at)),
                             "decisions": decisions_view(rows["previous"], points_of, today)},
        "due_here": decisions_view(rows["due_here"], points_of, today),
    }


CSV_COLUMNS = ["list", "decision_id", "scope", "scope_id", "school_id", "class_id", "academic_year", "point_id",
               "kind", "text", "owner", "pupil_ids", "intervention_id", "review_academic_year", "review_point_id",
               "review_ends_on", "status", "outcome", "review_note", "reviewed_by", "reviewed_at", "recorded_by",
               "recorded_at"]


def _csv_row(list_name: str, view: Mapping[str, Any]) -> dict[str, Any]:
    review = view["review"] or {}
    return {**{column: view.get(column) for column in CSV_COLUMNS}, "list": list_name,
            "pupil_ids": " ".join(view["pupil_ids"]),
            "review_academic_year": view["review_point"]["academic_year"],
            "review_point_id": view["review_point"]["point_id"], "review_ends_on": view["review_point"]["ends_on"],
            "outcome": review.get("outcome"), "review_note": review.get("note"),
            "reviewed_by": review.get("reviewed_by"), "reviewed_at": review.get("reviewed_at")}


def meeting_table(view: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The CSV export of a meeting: one row per decision, ``list`` saying which part of the page it is from."""
    parts = (("this", view["decisions"]), ("previous", view["previous_meeting"]["decisions"]),
             ("due_here", view["due_here"]))
    return CSV_COLUMNS, [_csv_row(name, decision) for name, decisions in parts for decision in decisions]


def list_table(view: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The CSV export of a school's or the trust's list."""
    return CSV_COLUMNS, [_csv_row("list", decision) for decision in view["decisions"]]
