"""One access policy for both services: who inside a trust may read and act on what.

Row-level security keeps trusts apart; this module decides between the people of one trust, so the
command API (writes) and the reports service (reads) can never disagree about a teacher's classes.

- A teacher's classes are the token's ``classes`` claim plus the classes a roster import or the staff
  endpoint assigned to their ``sub`` (:func:`assigned_classes`): an MIS assigns staff without reissuing tokens.
- Teachers read and act on their classes and the pupils now in them; school leaders on their schools;
  trust leaders (and platform admins) on the whole trust. Auditors and integrations read the whole trust
  but change nothing in it; auditors alone (with platform admins) read the audit log.
- A moderator's judgement (``source: "moderator"``) is recorded, corrected and withdrawn only by trust leaders
  and by school leaders in their own schools: the teacher being moderated must not write the figures that
  judge them. ``teacher`` and ``self`` (a pupil's self-assessment, entered by staff) need only the right to
  act on the pupil.
- A pupil progress meeting's decisions are recorded and reviewed by those who hold the meeting: a class's by
  its teachers and its school's leaders, a school's by its leaders; trust leaders hold any (auditors read them).
- An intervention is changed only by its lead or by someone who may act on every pupil in it; its impact
  is read in full by its lead and trust-wide readers, by everyone else only for the pupils they may read.

Pure rules over a :class:`Access` (the caller and their assigned classes), plus the one query that finds
the assigned classes, so the rules can be tested as a table without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, text

from fathom_shared.auth import ROLES, Principal
from fathom_shared.events import SOURCES

TRUST_WIDE = ("trust_leader", "platform_admin")
"""Act on everything in the trust."""
TRUST_WIDE_READERS = ("trust_leader", "auditor", "integration", "platform_admin")
"""Read every school, class, pupil and intervention of the trust."""
ROSTER_WRITERS = ("trust_leader", "platform_admin", "integration")
"""Write the trust's roster and framework (schools, scales, objectives, imports)."""
ROSTER_KEEPERS = (*ROSTER_WRITERS, "school_leader")
"""Keep a school's roster: classes, pupils, moves, leavers, staff (school leaders for their own schools)."""
ASSESSORS = ("teacher", "school_leader", "trust_leader")
"""Record judgements, taught dates, scores and interventions (each for the pupils they may act on)."""
READERS = tuple(sorted(ROLES))
"""Every role reads something (what exactly is decided per resource)."""
AUDIT_READERS = ("auditor", "platform_admin")
"""Judgement history, verification and the record of reads: the audit log."""
SETTINGS_WRITERS = TRUST_WIDE
FEED_READERS = ("integration", "platform_admin")
"""The change feed (server-sent events) for reporting consumers."""
WEBHOOK_KEEPERS = ("integration", "trust_leader")
"""Webhook subscriptions."""
SCHOOL_READERS = ("school_leader", *TRUST_WIDE_READERS)
"""Read a school's analysis (school leaders: their own schools)."""
STAFF_ERASERS = TRUST_WIDE
"""Erase a member of staff's identity (their sub, wherever it is shown) across the whole trust."""
RECORDED_READERS = AUDIT_READERS
"""Every request by these roles is recorded in the record of reads, not only their reads of the audit log."""
MODERATOR = "moderator"
"""The judgement source that only moderators record (:meth:`Access.may_moderate`)."""
MODERATOR_RULE = "Moderator judgements are recorded, corrected and withdrawn only by school or trust leaders."


class Place(Protocol):
    """Where a pupil is now: their school, and their current class (None for a leaver or no class)."""

    @property
    def school_id(self) -> str | None: ...

    @property
    def class_id(self) -> str | None: ...


@dataclass(frozen=True)
class PupilPlace:
    pupil_id: str
    school_id: str | None
    class_id: str | None


@dataclass(frozen=True)
class Access:
    """The caller, with the classes staff assignments give them (looked up once per request)."""

    principal: Principal
    assigned: frozenset[str] = frozenset()

    def _is(self, *roles: str) -> bool:
        return self.principal.has_any(*roles)

    @property
    def teaches(self) -> frozenset[str]:
        """The classes the caller teaches: the token's claim and their staff assignments (teachers only)."""
        return self.principal.classes | self.assigned if self._is("teacher") else frozenset()

    def _leads_school(self, school_id: str | None) -> bool:
        return self._is("school_leader") and school_id is not None and school_id in self.principal.schools

    # --- reading ----------------------------------------------------------------------------------

    def reads_whole_trust(self) -> bool:
        return self._is(*TRUST_WIDE_READERS)

    def may_read_trust(self) -> bool:
        """The pooled trust analysis."""
        return self.reads_whole_trust()

    def may_read_school(self, school_id: str) -> bool:
        return self.reads_whole_trust() or self._leads_school(school_id)

    def may_read_class(self, class_id: str, school_id: str) -> bool:
        return self.may_read_school(school_id) or class_id in self.teaches

    def may_read_pupil(self, place: Place) -> bool:
        """A teacher reads only the pupils now in one of their classes (not a leaver, nor one who moved on)."""
        return (self.reads_whole_trust() or self._leads_school(place.school_id)
                or (place.class_id is not None and place.class_id in self.teaches))

    def may_read_audit(self) -> bool:
        return self._is(*AUDIT_READERS)

    def is_recorded(self) -> bool:
        """Whether every request of the caller goes into the record of reads (auditors watch each other)."""
        return self._is(*RECORDED_READERS)

    # --- acting -----------------------------------------------------------------------------------

    def may_assess(self) -> bool:
        """Holds a role that records judgements at all (which pupils: :meth:`may_act_on`)."""
        return self._is(*ASSESSORS)

    def may_act_on(self, school_id: str | None, class_id: str | None) -> bool:
        """Record for a pupil or class: trust leaders anywhere, school leaders in their schools, teachers
        in their classes."""
        return (self._is(*TRUST_WIDE) or self._leads_school(school_id)
                or (class_id is not None and class_id in self.teaches))

    def may_write_framework(self) -> bool:
        """Schools, scales, objectives, presets, the framework import: the trust's shared structure."""
        return self._is(*ROSTER_WRITERS)

    def may_keep_roster(self, school_id: str) -> bool:
        """A school's classes, pupils and staff: roster writers anywhere, school leaders in their schools."""
        return self._is(*ROSTER_WRITERS) or self._leads_school(school_id)

    def may_roll_over(self, school_id: str | None) -> bool:
        """Start a new school year: for the whole trust (``school_id`` None) roster writers only, for one
        school those who keep its roster (its school leaders). Teachers and auditors never."""
        return self._is(*ROSTER_WRITERS) if school_id is None else self.may_keep_roster(school_id)

    def may_roll_over_some_school(self) -> bool:
        """Whether the roll-over page is offered: a trust-wide roster writer, or a leader of some school."""
        return self._is(*ROSTER_WRITERS) or (self._is("school_leader") and bool(self.principal.schools))

    def may_change_settings(self) -> bool:
        return self._is(*SETTINGS_WRITERS)

    def may_erase_staff(self) -> bool:
        return self._is(*STAFF_ERASERS)

    # --- judgement sources ------------------------------------------------------------------------

    def may_moderate(self, school_id: str | None) -> bool:
        """Record, correct or withdraw a moderator's judgement of a pupil of ``school_id``: trust leaders
        anywhere in the trust, school leaders in their own schools (never a teacher)."""
        return self._is("trust_leader") or self._leads_school(school_id)

    def may_state_source(self, source: str, school_id: str | None) -> bool:
        """Whether the caller may give a judgement of a pupil of ``school_id`` this ``source`` (which pupils
        they may act on at all is :meth:`may_act_on`)."""
        return source != MODERATOR or self.may_moderate(school_id)

    def recordable_sources(self, school_id: str, class_id: str) -> tuple[str, ...]:
        """The judgement sources the caller may record for the pupils of a class (none where they may record
        nothing), so an entry form offers only what the command API accepts."""
        if not (self.may_assess() and self.may_act_on(school_id, class_id)):
            return ()
        return tuple(s for s in SOURCES if self.may_state_source(s, school_id))

    # --- interventions ----------------------------------------------------------------------------

    def leads(self, lead: str | None) -> bool:
        """Whether the caller is the intervention's lead (the one place that compares a lead with a caller)."""
        return lead is not None and lead == self.principal.sub

    def may_change_intervention(self, lead: str | None, pupils: Iterable[Place]) -> bool:
        """End it, add or remove pupils, record its outcome: its lead, or someone who may act on every pupil
        in it (so a teacher cannot take over, or end, another class's group by holding one pupil of it). A group
        whose pupils have all been removed belongs to no class: its lead or a trust leader changes it."""
        pupils = list(pupils)
        if not self.may_assess():
            return False
        if self.leads(lead) or self._is(*TRUST_WIDE):
            return True
        return bool(pupils) and all(self.may_act_on(p.school_id, p.class_id) for p in pupils)

    def sees_whole_intervention(self, lead: str | None) -> bool:
        """Its lead and trust-wide readers see every pupil's impact rows."""
        return self.reads_whole_trust() or self.leads(lead)

    def readable_intervention_pupils(self, lead: str | None, pupil_ids: Iterable[str],
                                     places: Iterable[PupilPlace]) -> frozenset[str]:
        """The pupils whose impact rows the caller may see: all for :meth:`sees_whole_intervention`, otherwise
        only those the caller may read now (``places``: where they are now), so adding a pupil to a group
        never opens the rest of it."""
        members = frozenset(pupil_ids)
        if self.sees_whole_intervention(lead):
            return members
        return frozenset(p.pupil_id for p in places if p.pupil_id in members and self.may_read_pupil(p))

    # --- pupil progress meetings ----------------------------------------------------------------

    def may_hold_meeting(self, school_id: str, class_id: str | None) -> bool:
        """Record or review a meeting's decisions: a class's meeting (``class_id``) is its teachers' and its
        school's leaders' (trust leaders anywhere); a school's meeting (``class_id`` None) is its leaders' and
        the trust leaders'."""
        if class_id is not None:
            return self.may_assess() and self.may_act_on(school_id, class_id)
        return self._is("trust_leader") or self._leads_school(school_id)

    def may_read_meeting(self, school_id: str, class_id: str | None) -> bool:
        """Read a meeting's decisions: whoever reads the class (or, for a school's meeting, the school)."""
        return self.may_read_school(school_id) if class_id is None else self.may_read_class(class_id, school_id)


def assigned_classes(conn: Connection, principal: Principal) -> frozenset[str]:
    """The classes staff assignments give a teacher (the only place they are read; empty for others)."""
    if not principal.has_any("teacher") or principal.has_any(*TRUST_WIDE):
        return frozenset()
    rows = conn.execute(
        text("SELECT class_id FROM staff_assignments "
             "WHERE trust_id = current_setting('fathom.trust') AND staff_sub = :sub"),
        {"sub": principal.sub},
    )
    return frozenset(r.class_id for r in rows)


def access_for(conn: Connection, principal: Principal) -> Access:
    """The caller's :class:`Access`, run in their trust's transaction (row-level security applies)."""
    return Access(principal, assigned_classes(conn, principal))


def current_places(conn: Connection, pupil_ids: Iterable[str]) -> list[PupilPlace]:
    """Where the pupils are now, from the roster (the class is None once they have left)."""
    rows = conn.execute(
        text("SELECT pupil_id, school_id, CASE WHEN left_on IS NULL THEN class_id END AS class_id FROM pupils "
             "WHERE trust_id = current_setting('fathom.trust') AND pupil_id = ANY(:ids)"),
        {"ids": sorted(set(pupil_ids))},
    )
    return [PupilPlace(r.pupil_id, r.school_id, r.class_id) for r in rows]
