// Report for parents (/pupils/<id>/report?academic_year=&point_id=): per subject what the child is secure in and
// what comes next, in the curriculum's own words, and the teacher's comment. Written for a parent: no codes, no
// bands, no colours that need a key. Staff pick the point, write the comment and print it ("Download PDF" opens
// the browser's own print, where "Save as PDF" makes the file); the print stylesheet leaves only the report.
import { ApiError, capitalise, data, formatDate, getJSON, h, load, mount, send, setCrumbs, setTitle, showProblem }
  from "./fathom.js";
import { refusal } from "./drill-common.js";

const PUPIL_ID = data.pupilId;
const MAX_COMMENT = 2000;
const profileHref = `/pupils/${encodeURIComponent(PUPIL_ID)}`;

/** The point a report is usually wanted for: the latest that has ended, else the one under way, else the first. */
function defaultPoint(points, today) {
  const ended = points.filter((point) => point.ends_on < today);
  return ended[ended.length - 1] || points.find((point) => point.starts_on <= today) || points[0];
}

async function chosenPoint() {
  const query = new URLSearchParams(location.search);
  if (query.get("academic_year") && query.get("point_id")) {
    return { year: query.get("academic_year"), pointId: query.get("point_id") };
  }
  const calendar = await getJSON("/v1/calendar", query.get("academic_year")
    ? { academic_year: query.get("academic_year") } : {});
  const point = defaultPoint(calendar.points, new Date().toISOString().slice(0, 10));
  const url = `${location.pathname}?academic_year=${calendar.academic_year}&point_id=${encodeURIComponent(point.point_id)}`;
  history.replaceState(null, "", url);
  return { year: calendar.academic_year, pointId: point.point_id };
}

function statements(list, empty) {
  return list.length ? h("ul", { class: "statements" }, list.map((s) => h("li", {}, s.text)))
    : h("p", { class: "none-yet" }, empty);
}

function subjectSection(subject) {
  const id = `subject-${subject.subject.replace(/[^a-z0-9]+/gi, "-")}`;
  return h("section", { class: "report-subject", "data-subject": subject.subject, "aria-labelledby": id },
    h("h2", { id }, capitalise(subject.subject)),
    subject.summative ? h("p", { class: "summative" }, h("strong", {}, "Overall: "), subject.summative, ".") : null,
    h("h3", {}, "Strengths"),
    statements(subject.strengths, `Nothing in ${subject.subject} is secure yet this year.`),
    h("h3", {}, "Next steps"),
    statements(subject.next_steps, `Nothing taught in ${subject.subject} this year is still to be secured.`));
}

function reportArticle(report) {
  const pupil = report.pupil;
  const name = pupil.name || "This pupil";
  const point = report.point;
  const place = [pupil.year_group === 0 ? "Reception" : `Year ${pupil.year_group}`,
    pupil.class_name ? `Class ${pupil.class_name}` : null, pupil.school_name].filter(Boolean).join(" · ");
  return h("article", { class: "report", id: "report", "aria-labelledby": "page-title" },
    h("header", { class: "report-head" },
      h("p", { class: "report-place" }, place),
      h("p", { class: "report-period" }, `${point.name} ${report.academic_year}: `
        + `${formatDate(point.starts_on)} to ${formatDate(point.ends_on)}`),
      h("p", { class: "report-intro" }, "Strengths are what your child has learned securely so far this year. "
        + "Next steps are what they have been taught and are still working on.")),
    report.subjects.length ? report.subjects.map((subject) => subjectSection(subject))
      : h("p", { class: "none-yet" }, `Nothing has been taught or assessed for ${name} this year yet.`),
    h("section", { class: "report-comment", "aria-labelledby": "comment-title" },
      h("h2", { id: "comment-title" }, "Teacher's comment"),
      report.comment ? report.comment.split(/\n{2,}/).map((paragraph) => h("p", {}, paragraph))
        : h("p", { class: "none-yet" }, "No comment has been written yet.")));
}

function pointPicker(calendar, pointId) {
  const select = h("select", { id: "point", "aria-label": "Assessment point" }, calendar.points.map((point) =>
    h("option", { value: point.point_id, selected: point.point_id === pointId }, `${point.name} ${calendar.academic_year}`)));
  select.addEventListener("change", () => location.assign(`${location.pathname}?academic_year=`
    + `${calendar.academic_year}&point_id=${encodeURIComponent(select.value)}`));
  return select;
}

function actions(calendar, pointId) {
  const print = h("button", { type: "button", class: "button primary", id: "download-pdf",
    onclick: () => window.print() }, "Download PDF");
  return h("div", { class: "report-actions panel" },
    h("label", {}, "Report for ", pointPicker(calendar, pointId)),
    print,
    h("a", { href: profileHref }, "Back to the pupil profile"),
    h("p", { class: "hint" }, "Download PDF opens your browser's print window: choose \u201cSave as PDF\u201d."));
}

/** The comment form, for those who may write it (its teachers and leaders; the API has the last word). */
function commentEditor(report, year, pointId) {
  const text = h("textarea", { id: "comment", name: "comment", rows: 6, maxlength: MAX_COMMENT },
    report.comment || "");
  const form = h("form", { class: "comment-editor panel", id: "comment-form" },
    h("label", { for: "comment" }, h("strong", {}, "Teacher's comment"), " (what parents will read; up to "
      + `${MAX_COMMENT} characters, a blank line starts a new paragraph)`),
    text,
    h("p", {}, h("button", { type: "submit", class: "button primary" }, "Save comment")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await send("PUT", `/v1/pupils/${encodeURIComponent(PUPIL_ID)}/report-comment`,
        { academic_year: year, point_id: pointId, comment: text.value });
      location.assign(`${location.pathname}?academic_year=${year}&point_id=${encodeURIComponent(pointId)}`
        + `&consistency=${answer.last_sequence}`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showProblem(error);
    }
  });
  return form;
}

function mayWrite(directory, pupil) {
  if (!directory?.assesses) return false;
  if (directory.settings) return true;
  const school = directory.schools.find((s) => s.school_id === pupil.school_id);
  if (!school) return false;
  const klass = school.classes.find((c) => c.class_id === pupil.class_id);
  return Boolean(klass?.sources.length) || (school.readable && directory.roles.includes("school_leader"));
}

load(async () => {
  setCrumbs([{ label: "Home", href: "/" }, { label: "Pupil", href: profileHref }, { label: "Report for parents" }]);
  const { year, pointId } = await chosenPoint();
  const directoryPromise = getJSON("/v1/directory").catch(() => null);
  const calendarPromise = getJSON("/v1/calendar", { academic_year: year });
  let report;
  try {
    report = await getJSON(`/v1/pupils/${encodeURIComponent(PUPIL_ID)}/report`,
      { academic_year: year, point_id: pointId });
  } catch (error) {
    refusal(error, "report");
    return;
  }
  const [calendar, directory] = await Promise.all([calendarPromise, directoryPromise]);
  const name = report.pupil.name || "Pupil (name erased)";
  setTitle(`${name}: ${report.point.name} report`);
  setCrumbs([{ label: "Home", href: "/" }, { label: name, href: profileHref }, { label: "Report for parents" }]);
  mount("view", actions(calendar, pointId), reportArticle(report),
    mayWrite(directory, report.pupil) ? commentEditor(report, year, pointId) : null);
});
