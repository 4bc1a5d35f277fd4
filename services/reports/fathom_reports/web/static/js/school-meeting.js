// A school's pupil progress meeting (/schools/<id>/meeting?academic_year=&point_id=&subject=), for its leaders: at one
// assessment point, each class's codes beside the same pupils' codes at the point before (how many moved up, stayed,
// moved down) and the school pooled over its pupils; the school's falling-behind lists; the decisions overdue for
// review anywhere in the school, those due for review here and every class meeting's decisions at this point.
// Decisions are recorded at each class's meeting, which every class row and decision links to. Two reads, side by
// side.
import { ApiError, capitalise, csvLink, data, getJSON, h, load, mount, setCrumbs, setTitle, showProblem,
  showRefusal } from "./fathom.js";
import { fallingPanel } from "./falling-panel.js";
import { decisionItem } from "./meeting-decisions.js";

const schoolId = data.schoolId;
const base = `/v1/schools/${encodeURIComponent(schoolId)}`;

function asked() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(["academic_year", "point_id", "subject"].map((k) => [k, params.get(k)]).filter(([, v]) => v));
}

function go(changes) {
  location.assign(`/schools/${encodeURIComponent(schoolId)}/meeting?${new URLSearchParams({ ...asked(), ...changes })}`);
}

function classMeetingHref(classId, academicYear, pointId, subject = null) {
  return `/classes/${encodeURIComponent(classId)}/meeting?${new URLSearchParams({ academic_year: academicYear,
    point_id: pointId, ...(subject ? { subject } : {}) })}`;
}

load(async () => {
  let meeting;
  try {
    meeting = await getJSON(`${base}/meeting`, asked());
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      return showRefusal(error, { id: "school-meeting-refused",
        heading: error.status === 403 ? "This school's meeting is for its leaders" : "No such school",
        explanation: error.status === 403 ? "A school's pupil progress meeting is for the school's leaders and the "
          + "trust's. Teachers hold their classes' meetings from the class page." : "There is no school with this id "
          + "in your trust." });
    }
    throw error;
  }
  const point = meeting.point;
  const params = { academic_year: point.academic_year, point_id: point.point_id, subject: meeting.subject };
  const school = meeting.school_name || schoolId;
  setTitle(`Pupil progress meeting · ${school} · ${point.name}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: school, href: `/schools/${encodeURIComponent(schoolId)}` },
    { label: `Meeting ${point.name} ${point.academic_year}` }]);
  const falling = h("div", { id: "school-falling", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  mount("view", pickers(meeting), codesPanel(meeting, params), falling, decisionsPanels(meeting));
  getJSON(`${base}/falling-behind`, params).then(
    (lists) => mount(falling, fallingPanel(lists, `${base}/falling-behind`, params, { withClass: true })),
    (error) => { showProblem(error); mount(falling, h("p", { class: "empty" }, "This part could not be shown.")); });
});

function pickers(meeting) {
  const point = h("select", { id: "meeting-point", onchange: (event) => go({ point_id: event.target.value }) },
    meeting.points.map((p) => h("option", { value: p.point_id, selected: p.point_id === meeting.point.point_id }, p.name)));
  const subject = h("select", { id: "meeting-subject", onchange: (event) => go({ subject: event.target.value }) },
    meeting.subjects.map((s) => h("option", { value: s, selected: s === meeting.subject }, capitalise(s))));
  return h("div", { class: "filters meeting-pickers" },
    h("label", {}, "Assessment point ", point), h("label", {}, "Subject ", subject),
    h("a", { class: "button", id: "open-school-decisions",
      href: `/meeting-decisions?${new URLSearchParams({ school_id: schoolId })}` }, "Every decision of the school"));
}

function share(tally) {
  const percent = tally.percent_at_or_above_expected;
  return [`${tally.at_or_above_expected} of ${tally.assessed}`, percent === null ? "" : ` (${percent}%)`,
    tally.small_group && tally.assessed ? h("abbr", { class: "small-group", title: "Small group: too few pupils to "
      + "compare" }, "*") : null];
}

function changeRow(id, label, part, extra) {
  const moved = part.moved;
  return h("tr", { "data-unit": id, "data-assessed": part.now.assessed },
    h("th", { scope: "row" }, label),
    h("td", { class: "before" }, share(part.before)),
    h("td", { class: "now" }, share(part.now)),
    h("td", { class: "number moved-up" }, String(moved.up)), h("td", { class: "number moved-same" }, String(moved.same)),
    h("td", { class: "number moved-down" }, String(moved.down)),
    h("td", { class: "number not-compared" }, String(moved.not_compared)), extra);
}

function codesPanel(meeting, params) {
  const before = meeting.previous_point;
  const point = meeting.point;
  const rows = meeting.classes.map((klass) => changeRow(klass.class_id, h("a", {
    href: classMeetingHref(klass.class_id, point.academic_year, point.point_id, meeting.subject),
    class: "class-meeting-link" }, `${klass.name || klass.class_id}'s meeting`), klass,
  h("td", { class: "decision-counts" }, `${klass.decisions.recorded} recorded · ${klass.decisions.due_here} due here`
    + ` · ${klass.decisions.overdue} overdue`)));
  return h("section", { class: "panel", "aria-labelledby": "school-codes-title", id: "school-codes" },
    h("div", { class: "panel-head" }, h("h2", { id: "school-codes-title" },
      `Codes in ${meeting.subject} at ${point.name} ${point.academic_year}, by class`),
    h("div", { class: "downloads" }, csvLink(`${base}/meeting`, params, "Codes by class CSV"))),
    h("p", { class: "hint" }, `At or above expected: ${meeting.expected_code || "–"} or above. Each class's pupils are `
      + `those it gave a code at ${point.name}; "before" is the same pupils' own codes at `
      + `${before ? `${before.name} ${before.academic_year}` : "the point before"}, whichever class gave them. `
      + "The school's row pools its pupils (never an average of classes' percentages). A change of code is shown as "
      + "what it is. ", h("abbr", { class: "small-group", title: "Small group" }, "*"),
    ` fewer than ${meeting.settings.small_group_threshold} pupils, too few to compare fairly.`),
    h("div", { class: "table-scroll" }, h("table", { class: "figures-table", id: "school-change" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Class"),
        h("th", { scope: "col" }, before ? `At or above, ${before.name}` : "At or above, before"),
        h("th", { scope: "col" }, `At or above, ${point.name}`), h("th", { scope: "col" }, "Moved up"),
        h("th", { scope: "col" }, "Same"), h("th", { scope: "col" }, "Moved down"),
        h("th", { scope: "col" }, "No code before"), h("th", { scope: "col" }, "Decisions"))),
      h("tbody", {}, changeRow("pooled", "Whole school", meeting.pooled, h("td", {})), rows))));
}

function decisionList(id, decisions, empty) {
  const item = (decision) => decisionItem(decision, { extra: h("p", {}, decision.class_id
    ? h("a", { class: "class-meeting-link", href: classMeetingHref(decision.class_id, decision.academic_year,
      decision.point_id) }, `Class ${decision.class_id}'s meeting, ${decision.point_id} ${decision.academic_year}`)
    : h("span", { class: "muted" }, `The school's own meeting, ${decision.point_id} ${decision.academic_year}`)) });
  return decisions.length ? h("ul", { class: "decisions", id }, decisions.map(item))
    : h("p", { class: "empty", id }, empty);
}

function decisionsPanels(meeting) {
  const point = meeting.point;
  return [
    h("section", { class: "panel", "aria-labelledby": "school-overdue-title" },
      h("h2", { id: "school-overdue-title" }, "Overdue for review across the school"),
      h("p", { class: "hint" }, "Their review point has ended and nobody has reviewed them: review each at its "
        + "class's meeting."),
      decisionList("school-overdue", meeting.overdue, "Nothing is overdue for review.")),
    h("section", { class: "panel", "aria-labelledby": "school-due-title" },
      h("h2", { id: "school-due-title" }, `Due for review at ${point.name} ${point.academic_year}`),
      decisionList("school-due", meeting.due_here, "Nothing is due for review at this meeting.")),
    h("section", { class: "panel", "aria-labelledby": "school-decisions-title" },
      h("h2", { id: "school-decisions-title" }, `Decisions recorded at ${point.name} ${point.academic_year}`),
      h("p", { class: "hint" }, "Decisions are recorded at each class's meeting: open a class's meeting to add one."),
      decisionList("school-decisions", meeting.decisions, "No meeting has recorded a decision at this point yet.")),
  ];
}
