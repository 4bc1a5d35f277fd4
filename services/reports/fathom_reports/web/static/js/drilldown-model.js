// Trust and school analysis's model: the level (trust or school), the filters in the page's URL, the analysis
// answers (fetched once per filter combination) and the units one level down (schools or classes).
import { data, getJSON } from "./fathom.js";
import { counterpartOf } from "./pupil-groups.js";

export const LEVEL = data.level === "school" ? "school" : "trust";
export const SCHOOL_ID = data.schoolId || null;
export const SOURCES = [["teacher", "Teacher judgements"], ["self", "Pupil self-assessment"], ["moderator", "Moderator"]];
const answers = new Map();

/** The page's filters, from its URL (so every view can be linked to and comes back with Back). */
export function state() {
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
export function queryOf(st, overrides = {}, moment = true) {
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

let navigated = () => {};

/** What ``go`` runs once the URL has changed: the page's render (drilldown.js sets it; it imports this module). */
export function whenNavigated(render) {
  navigated = render;
}

export function go(overrides) {
  const q = queryOf(state(), overrides);
  history.pushState(null, "", location.pathname + "?" + q.toString());
  navigated();
}

export const apiPath = () => (LEVEL === "trust" ? "/v1/trust/analysis"
  : `/v1/schools/${encodeURIComponent(SCHOOL_ID)}/analysis`);

/** One analysis answer (the whole year group, every subject), fetched once per filter combination. */
export function analysis(year, group, source) {
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

export function units(view) {
  return LEVEL === "trust"
    ? view.schools.map((s) => ({ id: s.school_id, name: s.name || s.school_id, pupils: s.pupils }))
    : view.classes.map((c) => ({ id: c.class_id, name: c.name, pupils: c.pupils }));
}

export function unitTallies(objective) {
  return LEVEL === "trust"
    ? objective.schools.map((s) => ({ ...s, id: s.school_id }))
    : objective.classes.map((c) => ({ ...c, id: c.class_id }));
}

/** One level down: a school's page for the same year and filters, or a class's analysis. */
export function unitHref(id, st) {
  if (LEVEL === "trust") {
    return `/schools/${encodeURIComponent(id)}?${queryOf(st, { unassessed: false }, false)}`;
  }
  const q = new URLSearchParams();
  if (st.subject) q.set("subject", st.subject);
  if (st.group && st.view !== "compare") q.set("group", st.group);
  if (st.source !== "teacher") q.set("source", st.source);
  return `/classes/${encodeURIComponent(id)}` + (q.toString() ? "?" + q : "");
}

export const pooledName = () => (LEVEL === "trust" ? "Trust (all schools)" : "Whole school");
export const unitWord = () => (LEVEL === "trust" ? "school" : "class");

export const sourceName = (source) => (SOURCES.find(([value]) => value === source) || [source, source])[1];
