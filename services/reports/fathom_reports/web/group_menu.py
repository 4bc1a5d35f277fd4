"""The pupil groups as the pages offer them, rendered into the page (``data-pupil-groups``), never copied in JS.

Which fixed groups exist is decided once, by the read API's own list (``GROUP_FILTERS``): the menus follow it,
so a group the API filters by is offered everywhere and a group it does not know is offered nowhere. What
this module adds is only what a person reads: each group's label and menu section, and which group the
drill-down pages set beside another by default.
"""

from __future__ import annotations

import json
from typing import Any

from fathom_reports.views.pupil_groups import GROUP_FILTERS

OTHER = "Other"
SECTIONS = ("Pupil premium", "SEN", "English as an additional language", "Gender", OTHER)
"""Menu sections, in the order the menus show them."""

LABELS: dict[str, tuple[str, str]] = {
    "pupil_premium": ("Pupil premium", "Pupil premium"),
    "not_pupil_premium": ("Pupil premium", "Not pupil premium"),
    "sen": ("SEN", "SEN (support or EHCP)"),
    "sen_support": ("SEN", "SEN support"),
    "sen_ehcp": ("SEN", "SEN with an EHCP"),
    "sen_none": ("SEN", "No SEN"),
    "eal": ("English as an additional language", "EAL"),
    "not_eal": ("English as an additional language", "Not EAL"),
    "female": ("Gender", "Female"),
    "male": ("Gender", "Male"),
    "more_able": (OTHER, "More able"),
}
"""Group → (menu section, label). A group the API adds without a label here is still offered, under its name."""

COMPLEMENTS = {
    "pupil_premium": "not_pupil_premium", "not_pupil_premium": "pupil_premium",
    "eal": "not_eal", "not_eal": "eal",
}
"""Exact complements ("not in the group": a yes/no flag); other groups have none."""

COUNTERPARTS = {
    **COMPLEMENTS,
    "sen": "sen_none", "sen_support": "sen_none", "sen_ehcp": "sen_none", "sen_none": "sen",
    "female": "male", "male": "female",
}
"""The natural group to set beside another (named as itself, since it is not always exactly "the others")."""


def group_menu() -> dict[str, Any]:
    """Sections ``[[section, [[group, label], …]], …]`` of the API's fixed groups, and their pairings."""
    sections: dict[str, list[list[str]]] = {section: [] for section in SECTIONS}
    for group in GROUP_FILTERS:
        section, label = LABELS.get(group, (OTHER, group))
        sections[section].append([group, label])
    offered = set(GROUP_FILTERS)
    return {
        "sections": [[section, groups] for section, groups in sections.items() if groups],
        "complements": {g: other for g, other in COMPLEMENTS.items() if {g, other} <= offered},
        "counterparts": {g: other for g, other in COUNTERPARTS.items() if {g, other} <= offered},
    }


def group_menu_json() -> str:
    """``group_menu()`` as the JSON the pages' ``data-pupil-groups`` attribute carries."""
    return json.dumps(group_menu(), separators=(",", ":"))
