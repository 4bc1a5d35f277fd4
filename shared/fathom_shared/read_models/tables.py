"""The read-model tables: the only place their keys and column lists are written down.

The projector's writer builds its statements from these specs, the online rebuild's shadow and
swap use them, and the fold (:mod:`fathom_shared.read_models.fold`) fills rows keyed by them.
``trust_id`` is implied: every table has it as the first key column, never in a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

Row = dict[str, Any]
Key = tuple[Any, ...]
CellKey = tuple[str, str, str]
"""(pupil_id, objective_id, source): one ``rm_pupil_objective`` row."""


@dataclass(frozen=True)
class Table:
    """A read-model table as the projector sees it (``trust_id`` is implied, never in a row)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    conflict: Literal["replace", "ignore"] = "replace"
    """``replace``: the batch's row is the row (amendments were folded over the stored one);
    ``ignore``: the first row stays (a set of facts)."""
    minted: bool = False
    """Each row's key is minted by the event that makes the row (a judgement's or a score's id), so a row the fold
    made without loading one under its key is new to the table: the writer inserts such rows without the upsert's
    conflict check (``writer.write_rows``). Other tables' rows may be made again by a later event that does not
    load them (a taught date marked twice, a report comment rewritten), so they are always upserted."""

    _key_of: Callable[[Row], Key] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The fold keys every row it puts: an itemgetter, not a generator per row.
        if len(self.key) > 1:
            key_of: Callable[[Row], Key] = itemgetter(*self.key)
        elif self.key:
            column = self.key[0]
            key_of = lambda row: (row[column],)  # noqa: E731
        else:
            key_of = lambda _row: ()  # noqa: E731
        object.__setattr__(self, "_key_of", key_of)

    def key_of(self, row: Row) -> Key:
        return self._key_of(row)

    @property
    def values(self) -> tuple[str, ...]:
        """The columns outside the key: what an upsert may change."""
        return tuple(column for column in self.columns if column not in self.key)

    def select_list(self, columns: Iterable[str] | None = None, *, alias: str | None = None) -> str:
        """A SELECT list over this table: every column in spec order, or the chosen ones in the order given.

        Readers pick the columns their value type needs; naming one the spec lacks fails at import,
        not as an SQL error on the first request, so the spec stays the only source of column names.
        """
        chosen = self.columns if columns is None else tuple(columns)
        unknown = [column for column in chosen if column not in self.columns]
        if unknown:
            raise ValueError(f"{self.name} has no column {', '.join(unknown)}")
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + column for column in chosen)


SCHOOLS = Table("rm_schools", ("school_id",), ("school_id", "name"))
CLASSES = Table("rm_classes", ("class_id",),
                ("class_id", "school_id", "name", "year_group", "academic_year", "closed_on"))
"""``closed_on``: the day the class was kept read-only (``ClassClosed``, last year's class after a roll-over)."""
PUPILS = Table("rm_pupils", ("pupil_id",),
               ("pupil_id", "school_id", "class_id", "year_group", "groups", "left_on", "erased"))
PUPIL_CLASSES = Table("rm_pupil_classes", ("pupil_id", "class_id", "from_date"),
                      ("pupil_id", "class_id", "from_date", "to_date"))
SCALES = Table("rm_scales", ("scale_id",), ("scale_id", "name", "bands", "version", "previous_version"))
OBJECTIVES = Table("rm_objectives", ("objective_id",),
                   ("objective_id", "code", "subject", "year_group", "strand", "text", "weight", "scale_id",
                    "retired", "retired_on"))
JUDGEMENTS = Table("rm_judgements", ("judgement_id",),
                   ("judgement_id", "pupil_id", "objective_id", "class_id", "source", "value", "original_value",
                    "assessed_on", "note", "recorded_by", "sequence", "status", "amended_sequence", "amended_by",
                    "reason", "note_ref", "evidence_ref_id", "reason_ref", "recorded_by_ref", "amended_by_ref"),
                   minted=True)
"""``note``, ``reason``, ``recorded_by``, ``amended_by``: inline text of events written before erasable texts;
the ``*_ref`` columns: ids in ``personal_texts`` / ``staff_identities``, resolved when read."""
CLASS_TAUGHT = Table("rm_class_taught", ("class_id", "objective_id", "taught_on"),
                     ("class_id", "objective_id", "taught_on"), "ignore")
INTERVENTIONS = Table("rm_interventions", ("intervention_id",),
                      ("intervention_id", "name", "lead", "start_date", "pupil_ids", "objective_ids", "end_date",
                       "outcome", "name_ref", "lead_ref", "outcome_ref", "pupil_joined_on"))
"""``name``, ``lead``, ``outcome``: inline text of events written before erasable texts; ``*_ref``: ids;
``pupil_joined_on``: each pupil in it now → the ISO day they joined (``start_date`` or a change's ``changed_on``)."""
SCORES = Table("rm_scores", ("score_id",),
               ("score_id", "pupil_id", "test", "subject", "score", "taken_on", "sequence"), "ignore", minted=True)
TRUST_SETTINGS = Table("rm_trust_settings", (),
                       ("rollup_method", "rollup_n", "small_group_threshold", "secure_target_percent",
                        "score_disagreement_margin"))
ASSESSMENT_CALENDARS = Table("rm_assessment_calendars", ("academic_year",),
                             ("academic_year", "points", "sequence"))
"""One row per academic year a trust set the assessment points of; ``points`` as the event listed them."""
MEETING_DECISIONS = Table("rm_meeting_decisions", ("decision_id",),
                          ("decision_id", "scope", "scope_id", "school_id", "class_id", "academic_year", "point_id",
                           "kind", "text_ref", "owner_ref", "review_academic_year", "review_point_id", "pupil_ids",
                           "intervention_id", "recorded_by_ref", "recorded_at", "sequence", "outcome",
                           "review_note_ref", "reviewed_by_ref", "reviewed_at", "reviewed_sequence"))
"""Pupil progress meetings' decisions, one row each; ``outcome`` and the ``review*``/``reviewed*`` columns once
reviewed. Texts and people by their erasable ids (``text_ref``, ``owner_ref``, ...), resolved when read."""

SUMMATIVE_SCALE = Table("rm_summative_scale", (), ("scale_id", "name", "codes", "expected_rank", "sequence"))
"""The trust's summative scale as last chosen; a trust that never chose one has no row (readers serve the
default, :func:`fathom_shared.summative_scale.default_scale`)."""
SUMMATIVE_JUDGEMENTS = Table("rm_summative_judgements", ("pupil_id", "subject", "academic_year", "point_id"),
                             ("pupil_id", "subject", "academic_year", "point_id", "code", "rank", "class_id",
                              "judgement_id", "note_ref", "recorded_by_ref", "recorded_at", "sequence"))
"""Each pupil's current summative judgement per subject and assessment point: a later judgement of the cell
replaces the row, a correction changes its code, a withdrawal removes it. ``rank`` is the code's rank in the
scale (a code in use never changes rank); ``sequence``: the last event that changed the row."""

PARENT_REPORT_COMMENTS = Table("rm_parent_report_comments", ("pupil_id", "academic_year", "point_id"),
                               ("pupil_id", "academic_year", "point_id", "comment_ref", "written_by_ref",
                                "sequence"))
"""The teacher's comment on a pupil's report for parents at an assessment point: the latest one written.
``comment_ref``: its id in ``personal_texts`` (None: no comment); ``written_by_ref``: the writer's ``staff_ref``."""

TABLES: tuple[Table, ...] = (SCHOOLS, CLASSES, PUPILS, PUPIL_CLASSES, SCALES, OBJECTIVES, JUDGEMENTS,
                             CLASS_TAUGHT, INTERVENTIONS, SCORES, TRUST_SETTINGS, ASSESSMENT_CALENDARS,
                             MEETING_DECISIONS, SUMMATIVE_SCALE, SUMMATIVE_JUDGEMENTS, PARENT_REPORT_COMMENTS)
"""The tables the fold fills, written in this order; ``rm_pupil_objective`` is derived afterwards."""

PUPIL_OBJECTIVE = Table("rm_pupil_objective", ("pupil_id", "objective_id", "source"),
                        ("pupil_id", "objective_id", "source", "value", "assessed_on", "note", "event_id", "sequence",
                         "judgements"))
"""A cell's current judgement: derived from the cell's ``rm_judgements`` by the trust's rollup
(:mod:`fathom_shared.read_models.current`), not folded from events."""

READ_MODELS: tuple[Table, ...] = (*TABLES, PUPIL_OBJECTIVE)
"""Every table the projector keeps: one model each, named without ``rm_``."""

CLASS_BAND_COUNTS = Table("rm_class_band_counts", ("class_id", "source", "objective_id", "value"),
                          ("class_id", "source", "objective_id", "value", "pupils"))
"""How many of a class's current pupils have ``value`` as their current judgement of the objective from the
source: counted from ``rm_pupils`` and ``rm_pupil_objective`` (:mod:`fathom_shared.read_models.band_counts`), so
pooled analyses read kept totals instead of counting cells. Not a model: derived from two announced models, it
is not in the change feed and not rebuilt on its own."""

DEAD_LETTERS = Table("dead_letters", ("sequence",), ("sequence", "event_id", "event_type", "reason", "recorded_at"))
"""The events a trust's replay set aside, and why; ``recorded_at`` is the database's clock (its default)."""

REPLAYED: tuple[Table, ...] = (*READ_MODELS, CLASS_BAND_COUNTS, DEAD_LETTERS)
"""What replaying a trust's log makes, and so what a rebuild replaces."""

DEFAULT_SETTINGS: Row = {"rollup_method": "latest", "rollup_n": None, "small_group_threshold": 5,
                         "secure_target_percent": 70, "score_disagreement_margin": 1}
"""The column defaults of ``rm_trust_settings``: a trust that never changed them has no row."""
