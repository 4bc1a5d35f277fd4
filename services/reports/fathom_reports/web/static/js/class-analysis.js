// Class Analysis: the heat map of a class (pupils × objectives), its gaps and suggested groups, and
// starting an intervention from a group. One read (GET /v1/classes/<id>/analysis) paints the page;
// filters re-read it and keep the URL linkable. This module reads and paints; the panels, the filters and
// the start-an-intervention dialog have their own.
import {
  ApiError, asOf, asOfBanner, getJSON, h, load, mount, setCrumbs, setTitle, showProblem, showRefusal, withAsOf,
} from "./fathom.js";
import { buildFilters, fillFilters, filtersBuilt } from "./class-analysis-filters.js";
import { ANALYSIS, current, known, query, setCurrent, state } from "./class-analysis-model.js";
import { gapsPanel, groupsPanel, heatPanel, stats } from "./class-analysis-panels.js";
import { getClassAnalysis } from "./heat-map-encoding.js";
import { heatMap, profile } from "./heatmap.js";

const PAST_LIMITS = "Judgements cannot be entered, nor interventions started, from a view of the past.";

let request = 0;  // the latest read asked for; older answers are dropped
let school = null;  // {name, readable, closedOn} from the directory, once known

async function refresh() {
  const mine = ++request;
  const view = document.getElementById("view");
  view.setAttribute("aria-busy", "true");
  view.classList.add("updating");
  try {
    const analysis = await getClassAnalysis(ANALYSIS, query());
    if (mine === request) render(analysis);
  } finally {
    if (mine === request) {
      view.classList.remove("updating");
      view.removeAttribute("aria-busy");
    }
  }
}

function yearLabel(year) {
  return year === 0 ? "Reception" : `Year ${year}`;
}

// --- page -------------------------------------------------------------------------------------

function crumbs(klass) {
  const items = [{ label: "Home", href: "/" }];
  if (school) {
    items.push({ label: school.name, href: school.readable
      ? `/schools/${encodeURIComponent(klass.school_id)}?year_group=${klass.year_group}` : null });
  }
  items.push({ label: `Class ${klass.name}` });
  setCrumbs(items);
  // A school one may not open is plain text, not the current page.
  if (school && !school.readable) document.querySelector("#crumbs li:nth-child(2) span")?.removeAttribute("aria-current");
}

function head(klass) {
  const meta = [yearLabel(klass.year_group), klass.academic_year, school?.name].filter(Boolean).join(" · ");
  if (school?.closedOn) {  // last year's class after a roll-over: its history reads, nothing more is recorded
    mount("class-head", h("p", { class: "class-meta" }, meta),
      h("p", { class: "hint", id: "class-closed" }, `Closed on ${school.closedOn} (last year's class): read-only.`));
    return;
  }
  mount("class-head", h("p", { class: "class-meta" }, meta),
    asOf() ? null : h("a", { class: "button primary", id: "enter-judgements",
      href: `/classes/${encodeURIComponent(klass.id)}/entry` }, "Enter judgements"),
    asOf() ? null : h("a", { class: "button", id: "enter-summative",
      href: `/classes/${encodeURIComponent(klass.id)}/summative` }, "Summative codes"),
    asOf() ? null : h("a", { class: "button", id: "open-meeting",
      href: `/classes/${encodeURIComponent(klass.id)}/meeting` }, "Pupil progress meeting"));
}

// --- rendering --------------------------------------------------------------------------------

function render(view) {
  setCurrent(view);
  for (const objective of view.objectives) known.subjects.add(objective.subject);
  for (const pupil of view.pupils) for (const name of pupil.groups?.custom || []) known.custom.add(name);
  if (!filtersBuilt) buildFilters(refresh);
  fillFilters();
  const klass = view.class;
  setTitle(`Class ${klass.name}`);
  crumbs(klass);
  head(klass);
  const map = heatMap(view);
  const scroller = h("div", { class: "table-scroll heat-scroll" }, map.table);
  mount("view", asOfBanner(PAST_LIMITS), stats(view), heatPanel(view, map, scroller), gapsPanel(view),
    groupsPanel(view));
  if (view.objectives.length) map.layout(scroller);
}

function refuse(error) {
  document.getElementById("class-controls").hidden = true;
  const mine = error.status === 403;
  setTitle(mine ? "Not your class" : "Class not found");
  setCrumbs([{ label: "Home", href: "/" }, { label: mine ? "Class" : "Class not found" }]);
  showRefusal(error, { back: "Back to your classes",
    heading: mine ? "This class is not one of yours" : "There is no such class",
    explanation: mine ? "You can see the analysis of the classes you teach, or of the schools you lead. Ask a school "
      + "leader if you should have access to this class."
      : "No class with this id exists in your trust. It may have been mistyped, or the link is out of date." });
}

load(async () => {
  const directory = getJSON("/v1/directory", { as_of: null, consistency: null }).catch(() => null);
  try {
    await refresh();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      refuse(error);
      return;
    }
    if (error instanceof ApiError && error.status === 422 && (state.subject || state.group || state.source !== "teacher")) {
      showProblem(error);
      mount("view", h("p", {}, "These filters cannot be shown. ",
        h("a", { href: withAsOf(location.pathname) }, "Show the whole class")));
      return;
    }
    throw error;
  }
  if (state.subject && current.pupils.length) {
    // Opened on one subject: learn the others (for the subject filter) from a pupil's profile, which the
    // heat map's notes read anyway.
    profile(current.pupils[0].pupil_id).then((answer) => {
      for (const objective of answer.objectives || []) known.subjects.add(objective.subject);
      fillFilters();
    }, () => {});
  }
  const answer = await directory;
  const entry = answer?.schools?.find((s) => s.school_id === current.class.school_id);
  if (entry) {
    const listed = entry.classes.find((c) => c.class_id === current.class.id);
    school = { name: entry.name, readable: entry.readable, closedOn: listed?.closed_on || null };
    crumbs(current.class);
    head(current.class);
  }
});
