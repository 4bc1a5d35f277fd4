"""The one access policy as a table: every role × every kind of resource (pure, no database).

The trust has school ``north`` (classes 4a, 4b) and ``south`` (class 5s). Each row of the table is a
caller; each column a question the services ask. "Assigned teacher" holds no ``classes`` claim at all:
4a is theirs only through a staff assignment (a roster import), and must get exactly what the teacher
with the claim gets — before this policy the reports service refused them the class they could write.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fathom_shared.access_policy import FEED_READERS, WEBHOOK_KEEPERS, Access, PupilPlace
from fathom_shared.auth import ROLES, Principal

IN_4A = PupilPlace("p1", "north", "4a")
IN_4B = PupilPlace("p2", "north", "4b")
LEAVER_OF_4A = PupilPlace("p3", "north", None)
IN_5S = PupilPlace("p4", "south", "5s")
MIXED = (IN_4A, IN_4B, IN_5S)


def _who(role: str, **scope: frozenset[str]) -> Principal:
    return Principal(sub=f"sub-{role}", trust_id="t", roles=frozenset({role}), **scope)


CALLERS: dict[str, Access] = {
    "teacher": Access(_who("teacher", classes=frozenset({"4a"}))),
    "assigned teacher": Access(_who("teacher"), assigned=frozenset({"4a"})),
    "school_leader": Access(_who("school_leader", schools=frozenset({"north"}))),
    "trust_leader": Access(_who("trust_leader")),
    "auditor": Access(_who("auditor")),
    "integration": Access(_who("integration")),
    "platform_admin": Access(_who("platform_admin")),
}

Question = Callable[[Access], object]


def _rows_seen(a: Access, lead: str) -> str:
    return "".join(sorted(a.readable_intervention_pupils(lead, [p.pupil_id for p in MIXED], MIXED)))


QUESTIONS: dict[str, Question] = {
    "read trust analysis": lambda a: a.may_read_trust(),
    "read own school": lambda a: a.may_read_school("north"),
    "read other school": lambda a: a.may_read_school("south"),
    "read class 4a": lambda a: a.may_read_class("4a", "north"),
    "read class 4b": lambda a: a.may_read_class("4b", "north"),
    "read class 5s": lambda a: a.may_read_class("5s", "south"),
    "read pupil in 4a": lambda a: a.may_read_pupil(IN_4A),
    "read pupil in 4b": lambda a: a.may_read_pupil(IN_4B),
    "read leaver of 4a": lambda a: a.may_read_pupil(LEAVER_OF_4A),
    "read pupil in 5s": lambda a: a.may_read_pupil(IN_5S),
    "record for 4a": lambda a: a.may_assess() and a.may_act_on("north", "4a"),
    "record for 4b": lambda a: a.may_assess() and a.may_act_on("north", "4b"),
    "record for 5s": lambda a: a.may_assess() and a.may_act_on("south", "5s"),
    "change intervention of 4a pupils": lambda a: a.may_change_intervention("someone else", [IN_4A]),
    "change intervention of 4a+4b pupils": lambda a: a.may_change_intervention("someone else", [IN_4A, IN_4B]),
    "change intervention they lead": lambda a: a.may_change_intervention(a.principal.sub, [IN_5S]),
    "change an emptied intervention": lambda a: a.may_change_intervention("someone else", []),
    "impact rows of a mixed intervention": lambda a: _rows_seen(a, "someone else"),
    "impact rows of one they lead": lambda a: _rows_seen(a, a.principal.sub),
    "read audit log": lambda a: a.may_read_audit(),
    "read change feed": lambda a: a.principal.has_any(*FEED_READERS),  # as @requires asks
    "keep webhooks": lambda a: a.principal.has_any(*WEBHOOK_KEEPERS),
    "write framework": lambda a: a.may_write_framework(),
    "keep own school roster": lambda a: a.may_keep_roster("north"),
    "keep other school roster": lambda a: a.may_keep_roster("south"),
    "change trust settings": lambda a: a.may_change_settings(),
    "record self-assessment for 4a": lambda a: a.may_assess() and a.may_act_on("north", "4a")
    and a.may_state_source("self", "north"),
    "record moderator judgement for 4a": lambda a: a.may_assess() and a.may_act_on("north", "4a")
    and a.may_state_source("moderator", "north"),
    "record moderator judgement for 5s": lambda a: a.may_assess() and a.may_act_on("south", "5s")
    and a.may_state_source("moderator", "south"),
    "sources offered for 4a": lambda a: ",".join(a.recordable_sources("north", "4a")),
    "sources offered for 4b": lambda a: ",".join(a.recordable_sources("north", "4b")),
    "sources offered for 5s": lambda a: ",".join(a.recordable_sources("south", "5s")),
    "erase personal data of a north pupil": lambda a: a.may_keep_roster("north"),
    "erase a member of staff": lambda a: a.may_erase_staff(),
    "start or read chain verification jobs": lambda a: a.may_read_audit(),
    "every request recorded": lambda a: a.is_recorded(),
    "hold 4a's meeting": lambda a: a.may_hold_meeting("north", "4a"),
    "hold 4b's meeting": lambda a: a.may_hold_meeting("north", "4b"),
    "hold own school's meeting": lambda a: a.may_hold_meeting("north", None),
    "hold other school's meeting": lambda a: a.may_hold_meeting("south", None),
    "read 4a's meeting": lambda a: a.may_read_meeting("north", "4a"),
    "read own school's meeting": lambda a: a.may_read_meeting("north", None),
    "read other school's meeting": lambda a: a.may_read_meeting("south", None),
}

Y, N = True, False
TS, ALL = "teacher,self", "teacher,self,moderator"
EXPECTED: dict[str, tuple[object, ...]] = {
    #                    teacher   assigned  school_l  trust_l   auditor   integr.   plat_admin
    "read trust analysis": (N, N, N, Y, Y, Y, Y),
    "read own school": (N, N, Y, Y, Y, Y, Y),
    "read other school": (N, N, N, Y, Y, Y, Y),
    "read class 4a": (Y, Y, Y, Y, Y, Y, Y),
    "read class 4b": (N, N, Y, Y, Y, Y, Y),
    "read class 5s": (N, N, N, Y, Y, Y, Y),
    "read pupil in 4a": (Y, Y, Y, Y, Y, Y, Y),
    "read pupil in 4b": (N, N, Y, Y, Y, Y, Y),
    "read leaver of 4a": (N, N, Y, Y, Y, Y, Y),
    "read pupil in 5s": (N, N, N, Y, Y, Y, Y),
    "record for 4a": (Y, Y, Y, Y, N, N, N),
    "record for 4b": (N, N, Y, Y, N, N, N),
    "record for 5s": (N, N, N, Y, N, N, N),
    "change intervention of 4a pupils": (Y, Y, Y, Y, N, N, N),
    "change intervention of 4a+4b pupils": (N, N, Y, Y, N, N, N),
    "change intervention they lead": (Y, Y, Y, Y, N, N, N),
    "change an emptied intervention": (N, N, N, Y, N, N, N),
    "impact rows of a mixed intervention": ("p1", "p1", "p1p2", "p1p2p4", "p1p2p4", "p1p2p4", "p1p2p4"),
    "impact rows of one they lead": ("p1p2p4",) * 7,
    "read audit log": (N, N, N, N, Y, N, Y),
    "read change feed": (N, N, N, N, N, Y, Y),
    "keep webhooks": (N, N, N, Y, N, Y, N),
    "write framework": (N, N, N, Y, N, Y, Y),
    "keep own school roster": (N, N, Y, Y, N, Y, Y),
    "keep other school roster": (N, N, N, Y, N, Y, Y),
    "change trust settings": (N, N, N, Y, N, N, Y),
    "record self-assessment for 4a": (Y, Y, Y, Y, N, N, N),
    "record moderator judgement for 4a": (N, N, Y, Y, N, N, N),
    "record moderator judgement for 5s": (N, N, N, Y, N, N, N),
    "sources offered for 4a": (TS, TS, ALL, ALL, "", "", ""),
    "sources offered for 4b": ("", "", ALL, ALL, "", "", ""),
    "sources offered for 5s": ("", "", "", ALL, "", "", ""),
    "erase personal data of a north pupil": (N, N, Y, Y, N, Y, Y),
    "erase a member of staff": (N, N, N, Y, N, N, Y),
    "start or read chain verification jobs": (N, N, N, N, Y, N, Y),
    "every request recorded": (N, N, N, N, Y, N, Y),
    "hold 4a's meeting": (Y, Y, Y, Y, N, N, N),
    "hold 4b's meeting": (N, N, Y, Y, N, N, N),
    "hold own school's meeting": (N, N, Y, Y, N, N, N),
    "hold other school's meeting": (N, N, N, Y, N, N, N),
    "read 4a's meeting": (Y, Y, Y, Y, Y, Y, Y),
    "read own school's meeting": (N, N, Y, Y, Y, Y, Y),
    "read other school's meeting": (N, N, N, Y, Y, Y, Y),
}


def test_the_table_covers_every_role_and_question():
    assert {next(iter(a.principal.roles)) for a in CALLERS.values()} == ROLES
    assert set(EXPECTED) == set(QUESTIONS)
    assert all(len(answers) == len(CALLERS) for answers in EXPECTED.values())


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_every_role_gets_the_answer_in_the_table(question):
    got = tuple(QUESTIONS[question](access) for access in CALLERS.values())
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, EXPECTED[question], strict=True))


def test_a_staff_assignment_counts_exactly_like_the_classes_claim():
    claimed, assigned = CALLERS["teacher"], CALLERS["assigned teacher"]
    assert claimed.teaches == assigned.teaches == {"4a"}
    assert all(QUESTIONS[q](claimed) == QUESTIONS[q](assigned) for q in QUESTIONS if "lead" not in q)


def test_assignments_never_widen_anyone_but_a_teacher():
    leader = Access(_who("school_leader", schools=frozenset({"north"})), assigned=frozenset({"5s"}))
    assert leader.teaches == frozenset() and not leader.may_read_class("5s", "south")


def test_a_lead_is_compared_with_the_callers_sub_only():
    teacher = CALLERS["teacher"]
    assert teacher.leads("sub-teacher") and not teacher.leads(None) and not teacher.leads("Sub-Teacher")
