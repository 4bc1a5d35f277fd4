// Summative codes for leaders, year to year (/trust/summative, /schools/<id>/summative): at one assessment point
// the codes per school (or class) and pooled, then a cohort — the pupils in a year group now — followed back
// through their own codes at every point, with the same split by pupil group. Each point's codes are shown as
// they are, side by side: no line of "expected progress" is drawn between them.
import { bandClass, capitalise, csvLink, data, distributionBar, getJSON, h, load, mount, setCrumbs, setTitle, showStatus,
  withAsOf } from "./fathom.js";
import { pct, refusal } from "./drill-common.js";
import { groupLabel, GROUPS } from "./pupil-groups.js";

const LEVEL = data.level === "school" ? "school" : "trust";
const SCHOOL_ID = data.schoolId || null;
const BASE = LEVEL === "trust" ? "/trust/summative" : `/schools/${encodeURIComponent(SCHOOL_ID || "")}/summative`;
const YEAR_GROUPS = [0, 1, 2, 3, 4, 5, 6];

function state() {
  const q = new URLSearchParams(location.search);
  return { academic_year: q.get("academic_year") || "", point_id: q.get("point_id") || "",
    subject: q.get("subject") || "", year_group: q.get("year_group") || "", group: q.get("group") || "" };
}

function go(overrides) {
  const next = { ...state(), ...overrides };
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(next)) if (value) q.set(key, value);
  history.pushState(null, "", `${location.pathname}?${q}`);
  load(render);
}

function select(id, label, options, value, onchange) {
  return h("label", { for: id }, label, h("select", { id, onchange },
    options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text))));
}

/** The summative scale as the band helpers of fathom.js expect it: one band per code, secure = at or above. */
function bandsOf(counts) {
  return { bands: counts.map((c) => ({ value: c.code, label: c.label, secure: c.at_or_above_expected })) };
}

/** The key to the bars' colours: each code of the scale, lowest rank first, and which are at or above expected. */
function codeKey(codes) {
  const bands = bandsOf(codes);
  return h("ul", { class: "band-key", id: "code-key", "aria-label": "Key: summative codes" }, codes.map((c) =>
    h("li", {}, h("span", { class: bandClass(bands, c.code) }, c.code), " ", c.label,
      c.at_or_above_expected ? " (at or above expected)" : "")));
}

function bar(tally, href = null) {
  const counts = tally.counts.map((c) => ({ value: c.code, label: c.label, secure: c.at_or_above_expected,
    count: c.count }));
  return distributionBar(bandsOf(tally.counts), counts, { assessed: tally.assessed, notAssessed: tally.not_assessed || 0,
    percentSecure: tally.percent_at_or_above_expected, small: tally.small_group, href });
}

function percentCell(tally) {
  const value = pct(tally.percent_at_or_above_expected);
  return h("td", { class: "percent" }, value === null ? "–" : `${value}%`, tally.small_group && value !== null
    ? h("abbr", { class: "small-group", title: "Small group: too few pupils to compare" }, "*") : null);
}

function yearLabel(year) {
  return Number(year) === 0 ? "Reception" : `Year ${year}`;
}

function pointTable(view) {
  const units = LEVEL === "trust" ? view.schools : view.classes;
  const idKey = LEVEL === "trust" ? "school_id" : "class_id";
  const row = (id, name, tally, href) => h("tr", { "data-unit": id, "data-assessed": tally.assessed },
    h("th", { scope: "row" }, href ? h("a", { href: withAsOf(href) }, name) : name),
    h("td", { class: "number" }, String(tally.assessed)),
    h("td", { class: "number" }, String(tally.at_or_above_expected)),
    percentCell(tally), h("td", { class: "tally-cell" }, bar(tally)));
  const pageLink = (unit) => (LEVEL === "trust"
    ? `/schools/${encodeURIComponent(unit.school_id)}/summative?${new URLSearchParams(
      Object.entries({ ...state(), point_id: view.point.point_id, academic_year: view.point.academic_year,
        subject: view.subject }).filter(([, v]) => v))}`
    : `/classes/${encodeURIComponent(unit.class_id)}/summative`);
  return h("table", { id: "point-figures", class: "figures-table" },
    h("caption", {}, `${capitalise(view.subject)} at ${view.point.name} ${view.point.academic_year}: `
      + `codes per ${LEVEL === "trust" ? "school" : "class"} and pooled over the pupils`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, LEVEL === "trust" ? "School" : "Class"),
      h("th", { scope: "col" }, "Pupils with a code"), h("th", { scope: "col" }, "At or above expected"),
      h("th", { scope: "col" }, "%"), h("th", { scope: "col" }, "Codes"))),
    h("tbody", {}, row("pooled", LEVEL === "trust" ? "Whole trust" : "Whole school", view.pooled, null),
      units.map((unit) => row(unit[idKey], unit.name || unit[idKey], unit, pageLink(unit)))));
}

function cohortTable(cohort) {
  const rows = cohort.points.filter((p) => p.assessed > 0);
  if (!rows.length) return h("p", { class: "empty", id: "cohort-empty" }, "No codes for this cohort yet.");
  return h("table", { id: "cohort", class: "figures-table" },
    h("caption", {}, `The ${cohort.pupils} pupils in ${yearLabel(cohort.year_group)} in ${cohort.current_year}, `
      + `followed back through their own ${cohort.subject} codes (points where none of them had a code are left out)`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Assessment point"), h("th", { scope: "col" }, "Year group then"),
      h("th", { scope: "col" }, "Pupils with a code"), h("th", { scope: "col" }, "At or above expected"),
      h("th", { scope: "col" }, "%"), h("th", { scope: "col" }, "Codes (and not assessed)"))),
    h("tbody", {}, rows.map((p) => h("tr", { "data-point": `${p.academic_year}/${p.point_id}`, "data-assessed": p.assessed },
      h("th", { scope: "row" }, `${p.name} ${p.academic_year}`), h("td", {}, yearLabel(p.year_group)),
      h("td", { class: "number" }, String(p.assessed)), h("td", { class: "number" }, String(p.at_or_above_expected)),
      percentCell(p), h("td", { class: "tally-cell" }, bar(p))))));
}

function groupTable(cohort) {
  const rows = cohort.points.filter((p) => p.assessed > 0);
  if (!rows.length) return null;
  const latest = rows[rows.length - 1];
  const earliest = rows[0];
  const byName = (point) => new Map(point.by_group.map((g) => [g.group, g]));
  const first = byName(earliest);
  const last = byName(latest);
  return h("table", { id: "cohort-groups", class: "figures-table" },
    h("caption", {}, `By pupil group: % at or above expected at ${earliest.name} ${earliest.academic_year} and at `
      + `${latest.name} ${latest.academic_year}, each of the group's pupils with a code`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, "Pupils now"),
      h("th", { scope: "col" }, `${earliest.name} ${earliest.academic_year}`),
      h("th", { scope: "col" }, `${latest.name} ${latest.academic_year}`))),
    h("tbody", {}, latest.by_group.map((g) => h("tr", { "data-group": g.group },
      h("th", { scope: "row" }, groupLabel(g.group)), h("td", { class: "number" }, String(g.pupils)),
      percentCell(first.get(g.group)), percentCell(last.get(g.group))))));
}

async function render() {
  const st = state();
  const [directory, scale] = await Promise.all([getJSON("/v1/directory", { as_of: null }),
    getJSON("/v1/summative-scale", { as_of: null })]);
  const known = directory.schools.find((s) => s.school_id === SCHOOL_ID);
  const yearGroups = LEVEL === "trust" ? [...new Set(directory.schools.flatMap((s) => s.year_groups))].sort((a, b) => a - b)
    : known?.year_groups || YEAR_GROUPS;
  const cohortYear = st.year_group || String(yearGroups[yearGroups.length - 1] ?? 6);
  setTitle(LEVEL === "trust" ? "Summative codes across the trust" : `${known?.name || SCHOOL_ID}: summative codes`);
  setCrumbs(LEVEL === "trust" ? [{ label: "Trust", href: "/trust" }, { label: "Summative codes" }]
    : [{ label: directory.trust_wide ? "Trust" : "Home", href: directory.trust_wide ? "/trust" : "/" },
      { label: known?.name || SCHOOL_ID, href: `/schools/${encodeURIComponent(SCHOOL_ID)}` },
      { label: "Summative codes" }]);
  const common = { academic_year: st.academic_year || null, subject: st.subject || null, group: st.group || null,
    as_of: null };
  const pointPath = LEVEL === "trust" ? "/v1/trust/summative" : `/v1/schools/${encodeURIComponent(SCHOOL_ID)}/summative`;
  const pointParams = { ...common, point_id: st.point_id || null, year_group: st.year_group || null };
  const cohortParams = { ...common, year_group: cohortYear, school_id: SCHOOL_ID };
  let figures;
  let cohort;
  try {
    [figures, cohort] = await Promise.all([getJSON(pointPath, pointParams), getJSON("/v1/cohorts", cohortParams)]);
  } catch (error) {
    refusal(error, LEVEL === "trust" ? "trust's summative codes" : "school's summative codes", { the: LEVEL === "trust" });
    return;
  }
  showStatus("");
  const calendar = await getJSON("/v1/calendar", { academic_year: figures.point.academic_year, as_of: null });
  const expected = scale.codes.filter((c) => c.at_or_above_expected).map((c) => c.code).join(", ");
  mount("view",
    h("div", { class: "drill-controls" }, h("div", { class: "toolbar" },
      select("academic-year", "Academic year", yearsAround(figures.point.academic_year).map((y) => [y, y]),
        figures.point.academic_year, (e) => go({ academic_year: e.target.value, point_id: "" })),
      select("point", "Assessment point", calendar.points.map((p) => [p.point_id, p.name]), figures.point.point_id,
        (e) => go({ point_id: e.target.value })),
      select("subject", "Subject", figures.subjects.map((s) => [s, capitalise(s)]), figures.subject,
        (e) => go({ subject: e.target.value })),
      select("year-group", "Year group", [["", "All year groups"], ...yearGroups.map((y) => [y, yearLabel(y)])],
        st.year_group, (e) => go({ year_group: e.target.value })),
      select("group", "Pupils", [["", "All pupils"], ...GROUPS], st.group, (e) => go({ group: e.target.value })),
      h("span", { class: "downloads" }, csvLink(pointPath, pointParams, "CSV: this point"),
        csvLink("/v1/cohorts", cohortParams, "CSV: the cohort")))),
    codeKey(scale.codes),
    h("p", { class: "hint", id: "figures-key" }, `At or above expected: ${expected}. Percentages are of the pupils `
      + "with a code, worked out from the pooled pupils (never an average of percentages); ",
    h("abbr", { class: "small-group", title: "Small group" }, "*"),
    ` marks fewer than ${figures.settings.small_group_threshold} pupils, too few `
      + "to compare fairly. Codes at different points are shown side by side as they are: no line of expected "
      + "progress is drawn between them."),
    h("section", { class: "panel", "aria-labelledby": "point-title" },
      h("h2", { id: "point-title" }, `${figures.point.name} ${figures.point.academic_year}`
        + (st.year_group ? ` · ${yearLabel(st.year_group)}` : "") + (st.group ? ` · ${groupLabel(st.group)}` : "")),
      h("div", { class: "table-scroll" }, pointTable(figures))),
    h("section", { class: "panel", "aria-labelledby": "cohort-title" },
      h("h2", { id: "cohort-title" }, `Cohort: ${yearLabel(cohort.year_group)} in ${cohort.current_year}, year to year`),
      h("nav", { class: "year-tabs", "aria-label": "Cohort" }, h("ul", {}, yearGroups.map((y) => h("li", {},
        h("a", { href: withAsOf(`${BASE}?${new URLSearchParams(Object.entries({ ...st, year_group: String(y) })
          .filter(([, v]) => v))}`), "data-year-group": y, "aria-current": String(y) === cohortYear ? "page" : null },
        yearLabel(y)))))),
      h("div", { class: "table-scroll" }, cohortTable(cohort)),
      h("div", { class: "table-scroll" }, groupTable(cohort))));
}

/** The academic year shown and the two before it (cohorts reach back through them), newest first. */
function yearsAround(academicYear) {
  const first = Number(academicYear.slice(0, 4));
  return [first + 1, first, first - 1, first - 2].map((y) => `${y}-${String((y + 1) % 100).padStart(2, "0")}`);
}

window.addEventListener("popstate", () => load(render));
load(render);
