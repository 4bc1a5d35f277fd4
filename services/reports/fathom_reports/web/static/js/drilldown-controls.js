// Trust and school analysis's controls: the filters toolbar, the view switcher, the year tabs, the key and
// the summary line.
import { bandKey, capitalise, csvLink, h, withAsOf } from "./fathom.js";
import { apiPath, go, LEVEL, queryOf, SCHOOL_ID, SOURCES, unitHref, units, unitWord } from "./drilldown-model.js";
import { complementOf, counterpartOf, groupLabel, GROUPS } from "./pupil-groups.js";

const CUSTOM = "__custom";

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

export function toolbar(st, subjects, view) {
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

export function yearTabs(years, st) {
  const base = LEVEL === "trust" ? "/trust" : `/schools/${encodeURIComponent(SCHOOL_ID)}`;
  return h("nav", { class: "year-tabs", "aria-label": "Year group" }, h("ul", {}, years.map((year) => {
    const q = queryOf(st, { year: String(year) }, false);
    return h("li", {}, h("a", { href: withAsOf(`${base}?${q}`), "data-year-group": year,
      "aria-current": String(year) === st.year ? "page" : null }, year === 0 ? "Reception" : `Year ${year}`));
  })));
}

export function keys(objectives, settings) {
  const scales = new Map();
  for (const objective of objectives) if (!scales.has(objective.scale.scale_id)) scales.set(objective.scale.scale_id,
    objective.scale);
  return h("div", { class: "drill-key" }, [...scales.values()].map((scale) => bandKey(scale)),
    h("p", { class: "hint" }, h("span", { class: "key-swatch bar-not-assessed" }), " not assessed · ",
      h("abbr", { class: "small-group", title: "Small group" }, "*"),
      ` small group: fewer than ${settings.small_group_threshold} pupils assessed, too few to compare fairly · `
      + "% secure is worked out from the pooled counts, never averaged from percentages."));
}

export function summary(view, st) {
  const list = units(view);
  const word = unitWord();
  return h("section", { class: "panel drill-summary" },
    h("p", {}, h("strong", {}, `${view.pupils} pupils`), ` in Year ${st.year}`,
      st.group ? `, group: ${groupLabel(st.group)},` : "",
      ` across ${list.length} ${word}${list.length === 1 ? "" : word === "class" ? "es" : "s"}: `,
      list.map((u, i) => [i ? ", " : "", h("a", { href: withAsOf(unitHref(u.id, st)),
        class: "unit-link", "data-unit-id": u.id }, u.name), ` (${u.pupils})`])),
    view.pupils ? null : h("p", { class: "hint" }, "No pupils to count here: no classes in this year group, or "
      + "nobody in the group chosen."),
    h("p", {}, h("a", { id: "open-summative", href: summativeHref(st) },
      `Summative codes for Year ${st.year}, year to year`),
    LEVEL === "school" ? [" · ", h("a", { id: "open-school-meeting",
      href: `/schools/${encodeURIComponent(SCHOOL_ID)}/meeting` }, "The school's pupil progress meeting")] : null));
}

/** The same level's summative codes (per school or class at a point, and the cohort), for the year group shown. */
function summativeHref(st) {
  const base = LEVEL === "trust" ? "/trust/summative" : `/schools/${encodeURIComponent(SCHOOL_ID)}/summative`;
  return `${base}?year_group=${encodeURIComponent(st.year)}`;
}
