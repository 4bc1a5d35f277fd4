// Pupil progress meeting (/classes/<id>/meeting?academic_year=&point_id=&subject=): one class at one assessment
// point. Codes with their change since the last point beside the latest standardised scores, the falling-behind
// lists, the previous meeting's decisions with what has happened since (reviews, an intervention's impact, the
// named pupils' codes), this meeting's decisions and a form to record one; then the Class Analysis's gaps and
// suggested groups for the subject (the class page's own panels). Each part is its own read; none waits on another:
// all five start together when the place is known before any answer (the address, or the page's data-* defaults).
// Then the page's head has already preloaded them (meeting_place.py's meeting_reads builds the same URLs), and
// each getJSON below is handed its preload's answer: keep the URLs as they are built here and there alike.
import {
  ApiError, csvLink, data, formatDate, getJSON, h, load, mount, send, setCrumbs, setTitle, showProblem, showRefusal,
  showStatus,
} from "./fathom.js";
import { ANALYSIS, query as analysisQuery, setCurrent, state as analysisState } from "./class-analysis-model.js";
import { gapsPanel, groupsPanel } from "./class-analysis-panels.js";
import { getClassAnalysis } from "./heat-map-encoding.js";
import { fallingPanel, pupilLink } from "./falling-panel.js";
import { meetingDecisions } from "./meeting-decisions.js";

const classId = data.classId;
const base = `/v1/classes/${encodeURIComponent(classId)}`;
const MOVES = { up: ["↑", "up"], down: ["↓", "down"], same: ["=", "same"] };

function asked() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(["academic_year", "point_id", "subject"].map((k) => [k, params.get(k)]).filter(([, v]) => v));
}

/** The place the page is for when it is known before any read: named by the address, or the grid's defaults the
 * server found when it rendered the page (``data-*``); null when neither (the grid's answer will say). */
function knownPlace() {
  const place = { academic_year: data.academicYear, point_id: data.pointId, subject: data.subject, ...asked() };
  return place.academic_year && place.point_id && place.subject ? place : null;
}

function samePlace(a, b) {
  return a.academic_year === b.academic_year && a.point_id === b.point_id && a.subject === b.subject;
}

/** Start the four reads that name the place, together; each promise is marked handled at once, so a refusal
 * the grid will explain is not also reported as an unhandled rejection. */
function startReads(params) {
  const quiet = (promise) => { promise.catch(() => {}); return promise; };
  analysisState.subject = params.subject;
  return {
    params,
    falling: quiet(getJSON(`${base}/falling-behind`, params)),
    decisions: quiet(Promise.all([getJSON(`${base}/meetings/${params.academic_year}/${params.point_id}`),
      getJSON("/v1/directory")])),
    analysis: quiet(getClassAnalysis(ANALYSIS, analysisQuery())),
  };
}

load(async () => {
  // Every read starts at once when the place is known; otherwise the grid's answer names it first.
  const place = knownPlace();
  const gridRead = getJSON(`${base}/summative`, place || asked());
  let reads = place && startReads(place);
  let grid;
  try {
    grid = await gridRead;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      return showRefusal(error, { heading: error.status === 403 ? "This class is not one of yours" : "No such class",
        explanation: error.status === 403 ? "A class's pupil progress meeting is for its teachers and its school's "
          + "leaders." : "There is no class with this id in your trust." });
    }
    throw error;
  }
  const point = grid.point;
  const params = { academic_year: point.academic_year, point_id: point.point_id, subject: grid.subject };
  if (!reads || !samePlace(reads.params, params)) reads = startReads(params);
  setTitle(`Pupil progress meeting · ${grid.class_name} · ${point.name}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: `Class ${grid.class_name}`, href: `/classes/${encodeURIComponent(classId)}` },
    { label: `Meeting ${point.name} ${point.academic_year}` }]);
  const holders = Object.fromEntries(["codes", "falling", "decisions", "gaps", "groups"].map((name) =>
    [name, h("div", { id: `meeting-${name}`, "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"))]));
  mount("view", pickers(grid), codesPanel(grid), holders.falling, holders.decisions, holders.gaps, holders.groups);
  const failed = (holder) => (error) => { showProblem(error); mount(holder, h("p", { class: "empty" }, "This part could not be shown.")); };
  reads.falling.then((lists) => mount(holders.falling, fallingPanel(lists, `${base}/falling-behind`, params)), failed(holders.falling));
  reads.decisions.then(([meeting, directory]) => meetingDecisions(holders.decisions, { grid, meeting, directory, base }),
    failed(holders.decisions));
  reads.analysis.then((analysis) => {
    setCurrent(analysis);
    document.getElementById("view").append(h("datalist", { id: "class-interventions" },
      analysis.interventions.map((iv) => h("option", { value: iv.intervention_id }, iv.name ?? ""))));
    mount(holders.gaps, gapsPanel(analysis));
    mount(holders.groups, groupsPanel(analysis));
  }, failed(holders.gaps));
});

function go(changes) {
  const params = new URLSearchParams({ ...asked(), ...changes });
  location.assign(`/classes/${encodeURIComponent(classId)}/meeting?${params}`);
}

function pickers(grid) {
  const point = h("select", { id: "meeting-point", onchange: (event) => go({ point_id: event.target.value }) },
    grid.points.map((p) => h("option", { value: p.point_id, selected: p.point_id === grid.point.point_id }, p.name)));
  const subject = h("select", { id: "meeting-subject", onchange: (event) => go({ subject: event.target.value }) },
    grid.subjects.map((s) => h("option", { value: s, selected: s === grid.subject }, s)));
  return h("div", { class: "filters meeting-pickers" },
    h("label", {}, "Assessment point ", point), h("label", {}, "Subject ", subject),
    h("a", { class: "button", href: `/classes/${encodeURIComponent(classId)}/summative?${new URLSearchParams({
      academic_year: grid.point.academic_year, point_id: grid.point.point_id, subject: grid.subject })}` },
    "Enter summative codes"));
}

function codesPanel(grid) {
  const before = grid.previous_point;
  const rows = grid.pupils.map((pupil) => {
    const [mark, words] = MOVES[pupil.moved] || ["", ""];
    const score = pupil.prompt.score;
    return h("tr", { "data-pupil-id": pupil.pupil_id, class: pupil.moved === "down" ? "moved-down" : null },
      h("th", { scope: "row" }, pupilLink(pupil)),
      h("td", { class: "code previous" }, pupil.previous_code || "–"),
      h("td", { class: "code current" }, pupil.code || "–"),
      h("td", { class: "change", "data-moved": pupil.moved || "" }, mark ? [h("span", { "aria-hidden": "true" }, mark),
        ` ${words}`] : "–"),
      h("td", { class: "number" }, score ? String(score.score) : "–"),
      h("td", { class: "muted" }, score ? `${score.test}, ${formatDate(score.taken_on)}` : ""),
      h("td", { class: "number muted" }, `${pupil.prompt.secure} of ${pupil.prompt.judged} secure`));
  });
  return h("section", { class: "panel", "aria-labelledby": "codes-title", id: "meeting-codes" },
    h("div", { class: "panel-head" }, h("h2", { id: "codes-title" }, `Codes in ${grid.subject} at ${grid.point.name}`),
      h("div", { class: "downloads" }, csvLink(`${base}/summative`, { academic_year: grid.point.academic_year,
        point_id: grid.point.point_id, subject: grid.subject }, "Codes CSV"))),
    h("p", { class: "hint" }, "Each pupil's code beside the code at the point before: a change of code is shown as what "
      + "it is. The latest standardised score and the objective judgements sit alongside, to weigh, not to convert."),
    h("div", { class: "table-scroll" }, h("table", { class: "meeting-codes" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Pupil"),
        h("th", { scope: "col" }, before ? `${before.name} ${before.academic_year}` : "Before"),
        h("th", { scope: "col" }, grid.point.name), h("th", { scope: "col" }, "Change"),
        h("th", { scope: "col", class: "number" }, "Score"), h("th", { scope: "col" }, "Test"),
        h("th", { scope: "col", class: "number" }, "Objectives"))),
      h("tbody", {}, rows))));
}
