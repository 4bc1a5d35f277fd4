// Trust and school analysis (/trust, /schools/<id>): per objective the pooled figures and each school's
// (or class's) side by side, every bar linking one level down; a group comparison; CSV of the same table.
import {
  asOfBanner, bandKey, capitalise, csvLink, data, distributionBar, getJSON, h, load, mount, setCrumbs, setTitle,
  showStatus, withAsOf,
} from "./fathom.js";
import { keepFiltersInAsOfForm, pct, refusal } from "./drill-common.js";
import { GROUPS, complementOf, counterpartOf, groupLabel } from "./pupil-groups.js";

const LEVEL = data.level === "school" ? "school" : "trust";
const SCHOOL_ID = data.schoolId || null;
const KEPT = ["year_group", "subject", "group", "source", "view", "compare", "unassessed"];
const SOURCES = [["teacher", "Teacher judgements"], ["self", "Pupil self-assessment"], ["moderator", "Moderator"]];
const CUSTOM = "__custom";
const answers = new Map();
let directory = null;

/** The page's filters, from its URL (so every view can be linked to and comes back with Back). */
function state() {
  const q = new URLSearchParams(location.search);
  const view = q.get("view") === "compare" ? "compare" : "units";
  let group = q.get("group") || "";
  if (view === "compare" && !group) group = "pupil_premium";
  let compare = q.get("compare") || "";
  if (view === "compare" && (!compare || compare === group)) compare = counterpartOf(group) || "all";
  return {
    year: q.get("year_group") || "", subject: q.get("subject") || "", group, source: q.get("source") || "teacher",
    view, compare, unassessed: q.get("unassessed") === "1",
  };
}

/** The page's query for ``st`` with ``overrides``; ``moment`` keeps ``as_of``/``consistency`` (links add as_of
 * through withAsOf instead). */
function queryOf(st, overrides = {}, moment = true) {
  const next = { ...st, ...overrides };
  const q = new URLSearchParams();
  if (next.year) q.set("year_group", next.year);
  if (next.subject) q.set("subject", next.subject);
  if (next.group) q.set("group", next.group);
  if (next.source && next.source !== "teacher") q.set("source", next.source);
  if (next.view === "compare") {
    q.set("view", "compare");
    if (next.compare) q.set("compare", next.compare);
  }
  if (next.unassessed) q.set("unassessed", "1");
  const current = new URLSearchParams(location.search);
  if (moment) for (const key of ["as_of", "consistency"]) if (current.get(key)) q.set(key, current.get(key));
  return q;
}

function go(overrides) {
  const q = queryOf(state(), overrides);
  history.pushState(null, "", location.pathname + "?" + q.toString());
  render();
}

const apiPath = () => (LEVEL === "trust" ? "/v1/trust/analysis"
  : `/v1/schools/${encodeURIComponent(SCHOOL_ID)}/analysis`);

/** One analysis answer (the whole year group, every subject), fetched once per filter combination. */
function analysis(year, group, source) {
  const key = JSON.stringify([year, group, source]);
  if (!answers.has(key)) {
    const params = { year_group: year, group: group || null, source };
    const promise = getJSON(apiPath(), params);
    promise.catch(() => answers.delete(key));
    answers.set(key, promise);
  }
  return answers.get(key);
}

// --- units: schools on the trust page, classes on the school page -------------------------------------

function units(view) {
  return LEVEL === "trust"
    ? view.schools.map((s) => ({ id: s.school_id, name: s.name || s.school_id, pupils: s.pupils }))
    : view.classes.map((c) => ({ id: c.class_id, name: c.name, pupils: c.pupils }));
}

function unitTallies(objective) {
  return LEVEL === "trust"
    ? objective.schools.map((s) => ({ ...s, id: s.school_id }))
    : objective.classes.map((c) => ({ ...c, id: c.class_id }));
}

/** One level down: a school's page for the same year and filters, or a class's analysis. */
function unitHref(id, st) {
  if (LEVEL === "trust") {
    return `/schools/${encodeURIComponent(id)}?${queryOf(st, { unassessed: false }, false)}`;
  }
  const q = new URLSearchParams();
  if (st.subject) q.set("subject", st.subject);
  if (st.group && st.view !== "compare") q.set("group", st.group);
  if (st.source !== "teacher") q.set("source", st.source);
  return `/classes/${encodeURIComponent(id)}` + (q.toString() ? "?" + q : "");
}

const pooledName = () => (LEVEL === "trust" ? "Trust (all schools)" : "Whole school");
const unitWord = () => (LEVEL === "trust" ? "school" : "class");

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

function unitsTable(view, objectives, st) {
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

function compareTable(groupView, otherView, objectives, st) {
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

// --- controls -------------------------------------------------------------------------------------------

const sourceName = (source) => (SOURCES.find(([value]) => value === source) || [source, source])[1];

function select(id, label, options, value, onchange) {
  return h("label", { for: id }, label, h("select", { id, onchange },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
}

function groupOptions(allLabel, value) {
  const options = [...(allLabel ? [["", allLabel]] : []), ...GROUPS];
  if (value && value.startsWith("custom:")) options.push([value, groupLabel(value)]);
  options.push([CUSTOM, "A custom group…"]);
  return options;
}

function customGroupField(st) {
  const input = h("input", { id: "custom-group", type: "text", placeholder: "e.g. young carer", autocomplete: "off" });
  const apply = (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (name) go({ group: `custom:${name}` });
  };
  return h("form", { class: "custom-group", hidden: true, onsubmit: apply },
    h("label", { for: "custom-group" }, "Custom group name", input), h("button", { type: "submit" }, "Apply"));
}

function toolbar(st, subjects, view) {
  const custom = customGroupField(st);
  const onGroup = (event) => {
    if (event.target.value === CUSTOM) {
      custom.hidden = false;
      custom.querySelector("input").focus();
      return;
    }
    go({ group: event.target.value, compare: "" });
  };
  const compare = st.view === "compare";
  const counterpart = counterpartOf(st.group);
  const compareOptions = [
    ...(counterpart ? [[counterpart, groupLabel(counterpart) + (complementOf(st.group) ? " (everyone else)" : "")]]
      : []),
    ["all", "All pupils (the group included)"],
    ...GROUPS.filter(([g]) => g !== st.group && g !== counterpart),
  ];
  const params = { year_group: st.year, subject: st.subject || null, group: st.group || null, source: st.source };
  const downloads = compare
    ? [csvLink(apiPath(), params, `CSV: ${groupLabel(st.group)}`),
      csvLink(apiPath(), { ...params, group: st.compare === "all" ? null : st.compare },
        `CSV: ${st.compare === "all" ? "all pupils" : groupLabel(st.compare)}`)]
    : [csvLink(apiPath(), params, "Download CSV")];
  return h("div", { class: "drill-controls" },
    h("div", { class: "view-switch", role: "group", "aria-label": "View" },
      h("a", { id: "view-units", href: "?" + queryOf(st, { view: "units" }), class: ["button", compare ? null : "active"],
        "aria-current": compare ? null : "page", onclick: switcher({ view: "units" }) },
      LEVEL === "trust" ? "Schools side by side" : "Classes side by side"),
      h("a", { id: "view-compare", href: "?" + queryOf(st, { view: "compare" }), class: ["button", compare ? "active" : null],
        "aria-current": compare ? "page" : null, onclick: switcher({ view: "compare", compare: "" }) },
      "Compare a group")),
    h("div", { class: "toolbar" },
      select("subject", "Subject", [["", "All subjects"], ...subjects.map((s) => [s, capitalise(s)])], st.subject,
        (e) => go({ subject: e.target.value })),
      select("group", compare ? "Group" : "Pupils", groupOptions(compare ? null : "All pupils", st.group), st.group,
        onGroup),
      compare ? select("compare", "Compared with", compareOptions, st.compare, (e) => go({ compare: e.target.value }))
        : null,
      select("source", "Judgements", SOURCES, st.source, (e) => go({ source: e.target.value })),
      h("label", { class: "check" }, h("input", { type: "checkbox", id: "unassessed", checked: st.unassessed,
        onchange: (e) => go({ unassessed: e.target.checked }) }), "Show objectives no one is assessed on"),
      h("span", { class: "downloads" }, downloads)),
    custom,
    view.filters.group && view.filters.group.startsWith("custom:") && !view.pupils
      ? h("p", { class: "hint" }, `No pupils are in the custom group “${view.filters.group.slice(7)}”.`) : null);
}

function switcher(overrides) {
  return (event) => {
    event.preventDefault();
    go(overrides);
  };
}

function yearTabs(years, st) {
  const base = LEVEL === "trust" ? "/trust" : `/schools/${encodeURIComponent(SCHOOL_ID)}`;
  return h("nav", { class: "year-tabs", "aria-label": "Year group" }, h("ul", {}, years.map((year) => {
    const q = queryOf(st, { year: String(year) }, false);
    return h("li", {}, h("a", { href: withAsOf(`${base}?${q}`), "data-year-group": year,
      "aria-current": String(year) === st.year ? "page" : null }, year === 0 ? "Reception" : `Year ${year}`));
  })));
}

function keys(objectives, settings) {
  const scales = new Map();
  for (const objective of objectives) if (!scales.has(objective.scale.scale_id)) scales.set(objective.scale.scale_id,
    objective.scale);
  return h("div", { class: "drill-key" }, [...scales.values()].map((scale) => bandKey(scale)),
    h("p", { class: "hint" }, h("span", { class: "key-swatch bar-not-assessed" }), " not assessed · ",
      h("abbr", { class: "small-group", title: "Small group" }, "*"),
      ` small group: fewer than ${settings.small_group_threshold} pupils assessed, too few to compare fairly · `
      + "% secure is worked out from the pooled counts, never averaged from percentages."));
}

function summary(view, st) {
  const list = units(view);
  const word = unitWord();
  return h("section", { class: "panel drill-summary" },
    h("p", {}, h("strong", {}, `${view.pupils} pupils`), ` in Year ${st.year}`,
      st.group ? `, group: ${groupLabel(st.group)},` : "",
      ` across ${list.length} ${word}${list.length === 1 ? "" : word === "class" ? "es" : "s"}: `,
      list.map((u, i) => [i ? ", " : "", h("a", { href: withAsOf(unitHref(u.id, st)),
        class: "unit-link", "data-unit-id": u.id }, u.name), ` (${u.pupils})`])),
    view.pupils ? null : h("p", { class: "hint" }, "No pupils to count here: no classes in this year group, or "
      + "nobody in the group chosen."));
}

// --- the page ---------------------------------------------------------------------------------------------

function yearsOnOffer() {
  if (LEVEL === "trust") {
    const years = new Set(directory.schools.flatMap((s) => s.year_groups));
    return years.size ? [...years].sort((a, b) => a - b) : [1, 2, 3, 4, 5, 6];
  }
  const school = directory.schools.find((s) => s.school_id === SCHOOL_ID);
  return school ? school.year_groups : [];
}

function crumbs(st, schoolName) {
  const year = st.year ? `Year ${st.year}` : "Year group";
  const top = directory?.trust_wide ? { label: "Trust", href: "/trust" + (st.year ? `?year_group=${st.year}` : "") }
    : { label: "Home", href: "/" };
  if (LEVEL === "trust") {
    setCrumbs(directory?.trust_wide ? [{ label: "Trust", href: "/trust" }, { label: year }]
      : [{ label: "Home", href: "/" }, { label: "Trust analysis" }]);
  } else {
    setCrumbs([top, { label: schoolName || SCHOOL_ID, href: `/schools/${encodeURIComponent(SCHOOL_ID)}` },
      { label: year }]);
  }
}

async function render() {
  const focused = document.activeElement?.id;
  const st = state();
  const years = yearsOnOffer();
  if (!st.year) {
    st.year = String(years[0] ?? 1);
    history.replaceState(null, "", location.pathname + "?" + queryOf(st).toString());
  }
  keepFiltersInAsOfForm(KEPT);
  const known = directory.schools.find((s) => s.school_id === SCHOOL_ID);
  crumbs(st, known?.name);
  setTitle(LEVEL === "trust" ? `Trust analysis · Year ${st.year}` : `${known?.name || SCHOOL_ID} · Year ${st.year}`);
  document.getElementById("view").setAttribute("aria-busy", "true");
  let main;
  let other = null;
  try {
    [main, other] = await Promise.all([
      analysis(st.year, st.group, st.source),
      st.view === "compare" ? analysis(st.year, st.compare === "all" ? "" : st.compare, st.source) : null,
    ]);
  } catch (error) {
    const readable = directory.schools.filter((s) => s.readable && s.school_id !== SCHOOL_ID);
    const more = readable.length && error.status === 403 ? h("p", {}, "You can open: ", readable.map((s, i) =>
      [i ? ", " : "", h("a", { href: withAsOf(`/schools/${encodeURIComponent(s.school_id)}`) }, s.name)])) : null;
    if (LEVEL === "trust") refusal(error, "trust analysis", { the: true, more });
    else refusal(error, "school", { more });
    return;
  }
  showStatus("");
  if (LEVEL === "school") {
    crumbs(st, main.school.name);
    setTitle(`${main.school.name || SCHOOL_ID} · Year ${st.year}`);
  }
  const subjects = [...new Set(main.objectives.map((o) => o.subject))].sort();
  const inSubject = main.objectives.filter((o) => !st.subject || o.subject === st.subject);
  const shown = inSubject.filter((o) => st.unassessed || o.pooled.assessed > 0
    || (other && other.objectives.some((x) => x.objective_id === o.objective_id && x.pooled.assessed > 0)));
  const hidden = inSubject.length - shown.length;
  const table = !shown.length ? h("p", { class: "empty" }, inSubject.length
    ? "No pupil has been assessed on these objectives yet." : "No objectives for this year group and subject.")
    : h("div", { class: "table-scroll" }, st.view === "compare"
      ? compareTable(main, other, shown, st) : unitsTable(main, shown, st));
  mount("view",
    asOfBanner(),
    yearTabs(years.length ? years : [Number(st.year)], st),
    toolbar(st, subjects, main),
    summary(main, st),
    st.view === "compare" ? h("p", { class: "hint compare-note" }, compareNote(st, main, other)) : null,
    keys(shown, main.settings),
    table,
    hidden ? h("p", { class: "hint hidden-note" }, `${hidden} objective${hidden === 1 ? "" : "s"} no pupil has been `
      + "assessed on yet ", hidden === 1 ? "is" : "are", " hidden. ",
    h("button", { type: "button", id: "show-unassessed", class: "link", onclick: () => go({ unassessed: true }) }, "Show them")) : null);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function compareNote(st, main, other) {
  const groupName = groupLabel(st.group);
  if (st.compare === "all") {
    return `${groupName} (${main.pupils} pupils) beside the whole year group (${other.pupils} pupils), which `
      + "includes the group itself: there is no “not in this group” filter for it, so the figures are shown as "
      + "they are rather than estimated.";
  }
  return `${groupName} (${main.pupils} pupils) beside ${groupLabel(st.compare).toLowerCase()} `
    + `(${other.pupils} pupils). Differences are left out where either side is a small group.`;
}

window.addEventListener("popstate", () => load(render));

load(async () => {
  directory = await getJSON("/v1/directory", { as_of: null });
  await render();
});
