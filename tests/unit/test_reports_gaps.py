"""Suggested groups: the merge rule on hand-made objective rows, with exact members."""

from __future__ import annotations

import random

from fathom_reports.views.gaps import jaccard, suggest_groups
from fathom_reports.views.trust_settings import TrustSettings


def row(code: str, not_secure: list[str], percent: float, assessed: int = 10) -> dict:
    return {"objective_id": code.lower(), "code": code, "subject": "Maths", "assessed": assessed,
            "percent_secure": percent, "secure": 0, "small_group": False, "pupils_not_secure": not_secure,
            "taught": True, "taught_dates": []}


ORDER = [f"p{n}" for n in range(1, 10)]


def test_jaccard():
    assert jaccard({"a", "b"}, {"a", "b"}) == 1.0
    assert jaccard({"a", "b", "c"}, {"a", "b", "c", "d"}) == 0.75
    assert jaccard(set(), set()) == 0.0


def test_merge_rule_core_is_the_intersection_and_order_is_by_size_then_objectives():
    objectives = [
        row("A", ["p1", "p2", "p3"], 40.0),
        row("B", ["p3", "p1", "p2"], 50.0),        # identical set → joins A
        row("C", ["p1", "p2", "p3", "p4"], 60.0),  # 3/4 overlap → joins; p4 only "also consider"
        row("D", ["p5", "p6"], 20.0),              # no overlap → new group
        row("E", ["p5", "p7"], 30.0),              # 1/3 with D → its own group
        row("F", ["p8"], 50.0),                    # a group of one: not suggested
        row("G", ["p1", "p9"], 90.0),              # above target: ignored
        row("I", ["p1", "p2"], 70.0),              # exactly at target: not below, ignored
        row("H", ["p2", "p3"], 65.0),              # 2/3 with A's core → joins, core shrinks to p2 p3
        row("J", [], 60.0),                        # below target but nobody assessed not secure
    ]
    groups = suggest_groups(objectives, TrustSettings(), ORDER)
    assert [(g["size"], [o["code"] for o in g["objectives"]], g["pupil_ids"], g["also_consider"])
            for g in groups] == [
        (2, ["A", "B", "C", "H"], ["p2", "p3"], ["p1", "p4"]),
        (2, ["D"], ["p5", "p6"], []),
        (2, ["E"], ["p5", "p7"], []),
    ]
    assert groups[0]["start_intervention"] == {"pupil_ids": ["p2", "p3"], "objective_ids": ["a", "b", "c", "h"]}


def test_an_objective_joins_the_group_it_overlaps_most():
    objectives = [
        row("A", ["p1", "p2", "p3", "p4", "p5"], 10.0),
        row("B", ["p6", "p7", "p8"], 10.0),
        row("C", ["p6", "p7", "p8", "p1"], 10.0),  # 3/4 with B, 1/8 with A
    ]
    groups = suggest_groups(objectives, TrustSettings(), ORDER)
    assert [([o["code"] for o in g["objectives"]], g["pupil_ids"]) for g in groups] == [
        (["A"], ["p1", "p2", "p3", "p4", "p5"]), (["B", "C"], ["p6", "p7", "p8"])]


def test_the_target_is_the_trusts():
    objectives = [row("A", ["p1", "p2"], 75.0)]
    assert suggest_groups(objectives, TrustSettings(), ORDER) == []
    assert [g["pupil_ids"] for g in suggest_groups(objectives, TrustSettings(secure_target_percent=80), ORDER)] \
        == [["p1", "p2"]]


def reference_groups(objectives: list[dict], settings: TrustSettings, pupil_order: list[str]) -> list[dict]:
    """The rule written over sets of ids, as the module docstring states it (the view computes it on bit masks)."""
    groups: list[tuple[list[dict], set[str], set[str]]] = []
    for objective in objectives:
        if not (objective["assessed"] and objective["percent_secure"] < settings.secure_target_percent):
            continue
        pupils = set(objective["pupils_not_secure"])
        if not pupils:
            continue
        overlaps = [(jaccard(pupils, core), -n) for n, (_, core, _) in enumerate(groups)]
        best = max((o for o in overlaps if o[0] >= 0.6), default=None)
        if best is None:
            groups.append(([objective], set(pupils), set(pupils)))
        else:
            members, core, union = groups[-best[1]]
            members.append(objective)
            core &= pupils
            union |= pupils
    position = {p: n for n, p in enumerate(pupil_order)}
    kept = sorted((g for g in enumerate(groups) if len(g[1][1]) >= 2),
                  key=lambda g: (-len(g[1][1]), -len(g[1][0]), g[0]))
    return [{"size": len(core), "codes": [o["code"] for o in members], "pupil_ids": sorted(core, key=position.get),
             "also_consider": sorted(union - core, key=position.get)} for _, (members, core, union) in kept]


def test_bit_masks_give_exactly_the_rule_over_sets():
    rng = random.Random(7)
    order = [f"p{n:02d}" for n in range(30)]
    merged = 0
    for _ in range(200):
        sets: list[list[str]] = []
        for _ in range(rng.randint(1, 60)):  # often a near-copy of an earlier set, so groups merge and shrink
            pupils = list(rng.choice(sets)) if sets and rng.random() < 0.5 else rng.sample(order, rng.randint(0, 12))
            if pupils and rng.random() < 0.5:
                pupils.remove(rng.choice(pupils))
            sets.append(pupils + ([rng.choice(order)] if rng.random() < 0.3 else []))
        objectives = [row(f"O{n:03d}", list(dict.fromkeys(pupils)), rng.choice([20.0, 50.0, 80.0]))
                      for n, pupils in enumerate(sets)]
        settings = TrustSettings()
        got = [{"size": g["size"], "codes": [o["code"] for o in g["objectives"]], "pupil_ids": g["pupil_ids"],
                "also_consider": g["also_consider"]} for g in suggest_groups(objectives, settings, order)]
        assert got == reference_groups(objectives, settings, order)
        merged += sum(len(g["codes"]) > 1 for g in got)
    assert merged > 100  # the merge rule was exercised, not only lone objectives
