// Trust and school analysis's two tables: the units side by side, and one pupil group compared with another.
import { capitalise, distributionBar, h, withAsOf } from "./fathom.js";
import { pct } from "./drill-common.js";
import { LEVEL, pooledName, sourceName, unitHref, units, unitTallies } from "./drilldown-model.js";
import { groupLabel } from "./pupil-groups.js";

// --- cells ----------------------------------------------------------------------------------------------

function tallyText(t) {
  if (!t.pupils) return "no pupils";
  if (!t.assessed) return `none of ${t.pupils} assessed`;
  return `${t.secure} of ${t.assessed} secure`;
}

/** A tally (counts, % secure, small-group mark) as a bar with its counts; a link when ``href`` is given. */
function tallyFigure(scale, t, href) {
  const bar = distributionBar(scale, t.counts, {
    assessed: t.assessed, notAssessed: t.not_assessed, percentSecure: pct(t.percent_secure), small: t.small_group,
  });
  const detail = `${t.pupils} pupils: ${t.assessed} assessed, ${t.not_assessed} not assessed, ${t.secure} secure`;
  const counts = h("span", { class: "tally", title: detail }, tallyText(t));
  return href ? h("a", { href: withAsOf(href), class: "distribution-link tally-link" }, bar, counts)
    : h("span", { class: "tally-figure" }, bar, counts);
}

function tallyCell(objective, t, unit, href, extra = {}) {
  return h("td", {
    class: ["tally-cell", unit === "pooled" ? "pooled" : null, t.small_group ? "small" : null],
    "data-objective-id": objective.objective_id, "data-unit": unit,
    "data-percent-secure": t.percent_secure ?? "", "data-assessed": t.assessed, "data-pupils": t.pupils,
    "data-secure": t.secure, ...extra,
  }, tallyFigure(objective.scale, t, href));
}

function objectiveHeader(objective) {
  return h("th", { scope: "row", class: "objective", "data-objective-id": objective.objective_id },
    h("span", { class: "objective-code" }, objective.code),
    objective.retired ? h("span", { class: "retired" }, "retired") : null,
    h("span", { class: "objective-text" }, objective.text));
}

/** Objectives by subject, then strand (strands in the order they first appear), then code. */
function grouped(objectives) {
  const subjects = new Map();
  for (const objective of objectives) {
    if (!subjects.has(objective.subject)) subjects.set(objective.subject, new Map());
    const strands = subjects.get(objective.subject);
    const strand = objective.strand || "";
    if (!strands.has(strand)) strands.set(strand, []);
    strands.get(strand).push(objective);
  }
  return subjects;
}

function bodies(objectives, columns, row) {
  return [...grouped(objectives).entries()].map(([subject, strands]) => h("tbody", { "data-subject": subject },
    h("tr", { class: "subject-row" }, h("th", { scope: "rowgroup", colspan: columns }, capitalise(subject))),
    [...strands.entries()].map(([strand, list]) => [
      strand ? h("tr", { class: "strand-row" }, h("td", { colspan: columns }, capitalise(strand))) : null,
      list.map(row),
    ])));
}

// --- the two tables ---------------------------------------------------------------------------------------

export function unitsTable(view, objectives, st) {
  const list = units(view);
  const head = h("thead", {}, h("tr", {},
    h("th", { scope: "col", class: "objective-col" }, "Objective"),
    h("th", { scope: "col", class: "pooled-col" }, pooledName(),
      h("span", { class: "col-note" }, `${view.pupils} pupils`)),
    list.map((u) => h("th", { scope: "col", class: "unit-col", "data-unit-id": u.id },
      h("a", { href: withAsOf(unitHref(u.id, st)) }, u.name), h("span", { class: "col-note" }, `${u.pupils} pupils`)))));
  const columns = 2 + list.length;
  return h("table", { class: "drill-table", "data-level": LEVEL },
    h("caption", {}, `Year ${st.year} · ${sourceName(st.source)} · ${groupLabel(st.group)}: `
      + `each objective's % secure ${LEVEL === "trust" ? "across the trust and in each school"
        : "across the school and in each class"}`),
    head,
    bodies(objectives, columns, (objective) => h("tr", { "data-objective-id": objective.objective_id },
      objectiveHeader(objective),
      tallyCell(objective, objective.pooled, "pooled", null),
      unitTallies(objective).map((t) => tallyCell(objective, t, t.id, unitHref(t.id, st))))));
}

function difference(a, b) {
  if (!a || !b || a.percent_secure === null || b.percent_secure === null) {
    return h("td", { class: "number gap-cell", title: "Not compared: no pupils assessed in one of them" }, "–");
  }
  if (a.small_group || b.small_group) {
    return h("td", { class: "number gap-cell", title: "Not compared: too few pupils assessed (small group)" },
      "–", h("abbr", { class: "small-group", title: "Small group: too few pupils to compare" }, "*"));
  }
  const gap = a.percent_secure - b.percent_secure;
  const text = `${gap > 0 ? "+" : gap < 0 ? "−" : "±"}${Math.abs(gap).toFixed(1)}`;
  return h("td", { class: ["number", "gap-cell", gap < 0 ? "gap-below" : null], "data-difference": gap.toFixed(1),
    title: `${groupPercent(a)} against ${groupPercent(b)}` }, text);
}

const groupPercent = (t) => `${pct(t.percent_secure)}% secure (${t.secure} of ${t.assessed})`;

export function compareTable(groupView, otherView, objectives, st) {
  const groupName = groupLabel(st.group);
  const otherName = st.compare === "all" ? "All pupils" : groupLabel(st.compare);
  const list = units(groupView);
  const others = new Map(otherView.objectives.map((o) => [o.objective_id, o]));
  const pair = (extra) => [
    h("th", { scope: "col", class: "pair-group", ...extra }, groupName),
    h("th", { scope: "col", class: "pair-other", ...extra }, otherName)];
  const head = h("thead", {},
    h("tr", {},
      h("th", { scope: "col", rowspan: 2, class: "objective-col" }, "Objective"),
      h("th", { scope: "colgroup", colspan: 3, class: "pooled-col" }, pooledName(),
        h("span", { class: "col-note" }, `${groupView.pupils} ${groupName.toLowerCase()} · ${otherView.pupils} `
          + `${otherName.toLowerCase()}`)),
      list.map((u) => h("th", { scope: "colgroup", colspan: 2, class: "unit-col", "data-unit-id": u.id },
        h("a", { href: withAsOf(unitHref(u.id, st)) }, u.name)))),
    h("tr", {}, pair({}), h("th", { scope: "col", class: "number" }, "Difference", h("span", { class: "col-note" },
      "% points")), list.map(() => pair({}))));
  const columns = 4 + 2 * list.length;
  return h("table", { class: "drill-table compare-table", "data-level": LEVEL },
    h("caption", {}, `Year ${st.year} · ${sourceName(st.source)}: ${groupName} beside ${otherName}`
      + (st.compare === "all" ? " (the whole year group, the group included)" : "")),
    head,
    bodies(objectives, columns, (objective) => {
      const other = others.get(objective.objective_id);
      const otherUnits = new Map(other ? unitTallies(other).map((t) => [t.id, t]) : []);
      return h("tr", { "data-objective-id": objective.objective_id },
        objectiveHeader(objective),
        tallyCell(objective, objective.pooled, "pooled", null, { "data-side": "group" }),
        other ? tallyCell(other, other.pooled, "pooled", null, { "data-side": "other" }) : h("td", {}, "–"),
        difference(objective.pooled, other?.pooled),
        unitTallies(objective).map((t) => {
          const o = otherUnits.get(t.id);
          return [tallyCell(objective, t, t.id, unitHref(t.id, st), { "data-side": "group" }),
            o ? tallyCell(other, o, t.id, unitHref(t.id, st), { "data-side": "other" }) : h("td", {}, "–")];
        }));
    }));
}
