"""The pupil-group menus the pages offer are the read API's own list of groups, served to the page.

Before, ``pupil-groups.js`` copied the list by hand; now the page carries ``group_menu()`` and no script
names the groups.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import fathom_reports
from fathom_reports.views.pupil_groups import GROUP_FILTERS
from fathom_reports.web.group_menu import COMPLEMENTS, COUNTERPARTS, LABELS, group_menu, group_menu_json

SCRIPTS = Path(fathom_reports.__file__).parent / "web" / "static" / "js"


def test_the_menu_offers_every_group_the_api_filters_by_once_in_the_order_pages_always_showed() -> None:
    assert group_menu()["sections"] == [
        ["Pupil premium", [["pupil_premium", "Pupil premium"], ["not_pupil_premium", "Not pupil premium"]]],
        ["SEN", [["sen", "SEN (support or EHCP)"], ["sen_support", "SEN support"], ["sen_ehcp", "SEN with an EHCP"],
                 ["sen_none", "No SEN"]]],
        ["English as an additional language", [["eal", "EAL"], ["not_eal", "Not EAL"]]],
        ["Gender", [["female", "Female"], ["male", "Male"]]],
        ["Other", [["more_able", "More able"]]],
    ]
    offered = [group for _, groups in group_menu()["sections"] for group, _ in groups]
    assert sorted(offered) == sorted(GROUP_FILTERS)
    assert set(LABELS) == set(GROUP_FILTERS)  # a label for each group, and none for a group the API lacks


def test_pairings_name_only_offered_groups_and_complements_go_both_ways() -> None:
    menu = group_menu()
    assert menu["complements"] == COMPLEMENTS and menu["counterparts"] == COUNTERPARTS
    for group, other in {**COMPLEMENTS, **COUNTERPARTS}.items():
        assert group in GROUP_FILTERS and other in GROUP_FILTERS
    for group, other in COMPLEMENTS.items():
        assert COMPLEMENTS[other] == group


def test_the_page_attribute_is_the_menu_as_json() -> None:
    assert json.loads(group_menu_json()) == group_menu()


def test_no_script_keeps_its_own_list_of_groups() -> None:
    names = "|".join(GROUP_FILTERS)
    quoted = re.compile(r"""["'`](""" + names + r""")["'`]\s*[:,\]]""")
    for script in SCRIPTS.glob("*.js"):
        assert not quoted.findall(script.read_text()), script.name
