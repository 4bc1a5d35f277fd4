"""CSV export of the tables a leader sees, built from the very JSON-ready views (same filters, same numbers).

Each table is a header row and flat rows. Band counts, whose bands differ by scale, are one
``counts`` cell such as ``Emerging 1; Developing 0; Secure 2; Mastery 1``. Text that a
spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab or a line break, also after
leading whitespace) is prefixed with ``'`` — objective texts and names come from users. Every cell that becomes
text is checked, lists joined into one cell included.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from numbers import Number
from typing import Any

Table = tuple[list[str], list[dict[str, Any]]]
TALLY = ["pupils", "assessed", "not_assessed", "secure", "percent_secure", "small_group", "counts"]
OBJECTIVE = ["objective_id", "code", "subject", "strand", "text", "retired"]


def render(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def filename(*parts: Any) -> str:
    """``class-4a-analysis.csv``: ids reduced to safe characters for a Content-Disposition header."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", str(part)) for part in parts if part is not None)
    return f"{stem}.csv"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What makes a spreadsheet read a cell as a formula, also after leading spaces or line breaks it skips."""


def _cell(value: Any) -> Any:
    """Every cell that ends up as text goes through :func:`defused`: numbers stay numbers, nothing else escapes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number):
        return value
    if isinstance(value, list | tuple):
        return defused("; ".join(str(v) for v in value))
    return defused(str(value))


def defused(text: str) -> str:
    """``text`` prefixed with ``'`` when a spreadsheet would run it as a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR, LF, or any of these after leading whitespace such as ``" =1+1"``)."""
    if text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


safe_cell = _cell
"""One CSV cell: empty for None, booleans as words, formula-like text defused (for streamed exports)."""


def counts_text(counts: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(f"{c['label'] if c['label'] is not None else c['value']} {c['count']}" for c in counts)


def _objective(o: Mapping[str, Any]) -> dict[str, Any]:
    return {key: o[key] for key in OBJECTIVE}


def _tally(t: Mapping[str, Any]) -> dict[str, Any]:
    return {**{key: t.get(key) for key in TALLY if key != "counts"}, "counts": counts_text(t["counts"])}


def class_objectives(view: Mapping[str, Any]) -> Table:
    columns = [*OBJECTIVE, "taught_dates", "pupils", "assessed", "not_assessed", "secure", "percent_secure",
               "small_group", "counts", "pupils_not_secure", "pupils_not_assessed"]
    pupils = len(view["pupils"])
    return columns, [{**_objective(o), **_tally({**o, "pupils": pupils}), "taught_dates": o["taught_dates"],
                      "pupils_not_secure": o["pupils_not_secure"], "pupils_not_assessed": o["pupils_not_assessed"]}
                     for o in view["objectives"]]


def class_heat_map(view: Mapping[str, Any]) -> Table:
    """One row per pupil and objective shown, blank where not assessed."""
    columns = ["pupil_id", "name", "erased", "objective_id", "code", "value", "label", "secure", "assessed_on",
               "source"]
    rows = []
    cells = {row["pupil_id"]: row["cells"] for row in view["heat_map"]}
    for pupil in view["pupils"]:
        for objective in view["objectives"]:
            cell = cells[pupil["pupil_id"]].get(objective["objective_id"]) or {}
            rows.append({"pupil_id": pupil["pupil_id"], "name": pupil["name"], "erased": pupil["erased"],
                         "objective_id": objective["objective_id"], "code": objective["code"], **cell})
    return columns, rows


def school_table(view: Mapping[str, Any]) -> Table:
    """Per objective: the school's pooled row, then one row per class."""
    columns = ["level", "id", "name", *OBJECTIVE, *TALLY]
    rows = []
    for o in view["objectives"]:
        rows.append({"level": "school", "id": view["school"]["id"], "name": view["school"]["name"],
                     **_objective(o), **_tally(o["pooled"])})
        rows += [{"level": "class", "id": c["class_id"], "name": c["name"], **_objective(o), **_tally(c)}
                 for c in o["classes"]]
    return columns, rows


def trust_table(view: Mapping[str, Any]) -> Table:
    """Per objective: the trust's pooled row, then one row per school."""
    columns = ["level", "id", "name", *OBJECTIVE, *TALLY]
    rows = []
    for o in view["objectives"]:
        rows.append({"level": "trust", "id": None, "name": None, **_objective(o), **_tally(o["pooled"])})
        rows += [{"level": "school", "id": s["school_id"], "name": s["name"], **_objective(o), **_tally(s)}
                 for s in o["schools"]]
    return columns, rows


def moderation_table(view: Mapping[str, Any]) -> Table:
    """Per objective: the pooled agreement, then one row per school."""
    columns = ["level", "school_id", "objective_id", "code", "subject", "year_group", "pairs", "agreed",
               "agreement_percent", "within_one", "within_one_percent", "small_group"]
    rows = []
    for o in view["objectives"]:
        head = {k: o[k] for k in ("objective_id", "code", "subject", "year_group")}
        rows.append({"level": "trust" if view["filters"]["school_id"] is None else "school",
                     "school_id": view["filters"]["school_id"], **head, **o["pooled"]})
        rows += [{"level": "school", **head, **school} for school in o["schools"]]
    return columns, rows


def impact_table(view: Mapping[str, Any]) -> Table:
    columns = ["pupil_id", "name", "objective_id", "code", "before_value", "before_label", "before_on",
               "after_value", "after_label", "after_on", "change", "moved_to_secure"]
    names = {p["pupil_id"]: p["name"] for p in view["pupils"]}
    codes = {o["objective_id"]: o["code"] for o in view["objectives"]}
    rows = []
    for r in view["rows"]:
        before, after = r["before"] or {}, r["after"] or {}
        rows.append({"pupil_id": r["pupil_id"], "name": names.get(r["pupil_id"]), "objective_id": r["objective_id"],
                     "code": codes.get(r["objective_id"]), "before_value": before.get("value"),
                     "before_label": before.get("label"), "before_on": before.get("assessed_on"),
                     "after_value": after.get("value"), "after_label": after.get("label"),
                     "after_on": after.get("assessed_on"), "change": r["change"],
                     "moved_to_secure": r["moved_to_secure"]})
    return columns, rows


def class_gaps(view: Mapping[str, Any]) -> Table:
    """Taught-not-assessed and below-target objectives, one row each, ``gap`` saying which."""
    columns = ["gap", "objective_id", "code", "subject", "taught_dates", "assessed", "secure", "percent_secure",
               "small_group", "secure_target_percent"]
    gaps = view["gaps"]
    target = gaps["secure_target_percent"]
    return columns, ([{"gap": "taught_not_assessed", **g, "secure_target_percent": target}
                      for g in gaps["taught_not_assessed"]]
                     + [{"gap": "below_target", **g, "secure_target_percent": target} for g in gaps["below_target"]])


def class_suggested_groups(view: Mapping[str, Any]) -> Table:
    columns = ["group", "size", "objective_codes", "objective_ids", "pupil_ids", "also_consider"]
    return columns, [{"group": n, "size": g["size"], "objective_codes": [o["code"] for o in g["objectives"]],
                      "objective_ids": [o["objective_id"] for o in g["objectives"]], "pupil_ids": g["pupil_ids"],
                      "also_consider": g["also_consider"]} for n, g in enumerate(view["suggested_groups"], 1)]


CLASS_TABLES = {"objectives": class_objectives, "heat_map": class_heat_map, "gaps": class_gaps,
                "suggested_groups": class_suggested_groups}
"""The ``table`` a class analysis CSV holds."""


def profile_history(view: Mapping[str, Any]) -> Table:
    """Every judgement of the pupil, oldest first per objective, with its corrections and withdrawals."""
    columns = ["objective_id", "code", "subject", "judgement_id", "assessed_on", "source", "value", "label",
               "secure", "original_value", "status", "reason", "recorded_by", "amended_by", "note"]
    return columns, [{"objective_id": o["objective_id"], "code": o["code"], "subject": o["subject"], **h}
                     for o in view["objectives"] for h in o["history"]]


SUMMATIVE_CODE_COLUMNS = ["subject", "academic_year", "point_id", "point_name", "starts_on", "ends_on", "code",
                          "label", "rank", "at_or_above_expected", "class_id"]


def profile_summative(view: Mapping[str, Any]) -> Table:
    """The pupil's summative codes across points and academic years, in time order (``?table=summative``)."""
    return SUMMATIVE_CODE_COLUMNS, list(view["summative"])
