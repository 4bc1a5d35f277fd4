"""The directory as the caller may see it: only the schools and classes they may read."""

from __future__ import annotations

from typing import Any

from fathom_shared.access_policy import Access
from fathom_shared.auth import Principal


def visible_directory(who: Access | Principal, schools: list[dict[str, Any]]) -> dict[str, Any]:
    """Only what the caller may read: a teacher sees their classes' schools and just those classes (their
    token's and their staff assignments' when ``who`` is their :class:`Access`)."""
    access = who if isinstance(who, Access) else Access(who)
    principal = access.principal
    visible = []
    for school in schools:
        classes = [c for c in school["classes"] if access.may_read_class(c["class_id"], c["school_id"])]
        readable = access.may_read_school(school["school_id"])
        if classes or readable:
            visible.append({"school_id": school["school_id"], "name": school["name"], "readable": readable,
                            "year_groups": sorted({c["year_group"] for c in classes}),
                            "classes": [_class_view(access, c) for c in classes]})
    return {"trust_id": principal.trust_id, "sub": principal.sub, "roles": sorted(principal.roles),
            "trust_wide": access.may_read_trust(), "audit": access.may_read_audit(), "assesses": access.may_assess(),
            "settings": access.may_change_settings(), "rollover": access.may_roll_over_some_school(),
            "schools": visible}


def _class_view(access: Access, klass: dict[str, Any]) -> dict[str, Any]:
    """A listed class, with the sources the caller may record for it (so an entry form offers only those): none
    for a closed class (last year's, read-only)."""
    sources = [] if klass.get("closed_on") else access.recordable_sources(klass["school_id"], klass["class_id"])
    return {**{k: v for k, v in klass.items() if k != "school_id"}, "sources": list(sources)}
