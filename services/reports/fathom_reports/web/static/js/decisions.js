// Meeting decisions across a school or the trust (/meeting-decisions?school_id=&overdue=true): every decision of
// the pupil progress meetings the person leads, those overdue for review (the review point has ended, nobody has
// reviewed it) marked and, with "Overdue only", alone. Each leads to its class's meeting.
// Each school links to its own meeting page (every class at one point).
import { csvLink, getJSON, h, load, mount, setCrumbs, setTitle } from "./fathom.js";
import { decisionItem } from "./meeting-decisions.js";

load(async () => {
  const asked = new URLSearchParams(location.search);
  const directory = await getJSON("/v1/directory");
  const schools = directory.schools.filter((school) => school.readable);
  const schoolId = asked.get("school_id") || (directory.trust_wide ? "" : schools[0]?.school_id || "");
  const overdue = asked.get("overdue") === "true";
  const path = schoolId ? `/v1/schools/${encodeURIComponent(schoolId)}/meeting-decisions` : "/v1/meeting-decisions";
  const params = overdue ? { overdue: "true" } : {};
  const answer = await getJSON(path, params);
  const where = schoolId ? schools.find((s) => s.school_id === schoolId)?.name || schoolId : "the trust";
  setTitle(`Meeting decisions · ${where}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: "Meeting decisions" }]);
  const go = (changes) => {
    const next = new URLSearchParams({ school_id: schoolId, overdue: String(overdue), ...changes });
    location.assign(`/meeting-decisions?${next}`);
  };
  const picker = h("select", { id: "decisions-school", onchange: (event) => go({ school_id: event.target.value }) },
    directory.trust_wide ? h("option", { value: "", selected: !schoolId }, "The whole trust") : null,
    schools.map((s) => h("option", { value: s.school_id, selected: s.school_id === schoolId }, s.name)));
  const only = h("input", { type: "checkbox", id: "decisions-overdue", checked: overdue,
    onchange: (event) => go({ overdue: String(event.target.checked) }) });
  const overdueCount = answer.decisions.filter((d) => d.status === "overdue").length;
  const item = (decision) => decisionItem(decision, { extra: decision.class_id ? h("p", {}, h("a", {
    href: `/classes/${encodeURIComponent(decision.class_id)}/meeting?${new URLSearchParams({
      academic_year: decision.academic_year, point_id: decision.point_id })}` },
  `Class ${decision.class_id}'s meeting, ${decision.point_id} ${decision.academic_year}`)) : null });
  const meetings = schoolId ? schools.filter((s) => s.school_id === schoolId) : schools;
  mount("view", h("div", { class: "filters meeting-pickers" }, h("label", {}, "Where ", picker),
    h("label", {}, only, " Overdue only")),
  meetings.length ? h("p", { id: "school-meeting-links" }, "The school's meeting at an assessment point: ",
    meetings.map((s, index) => [index ? " · " : "", h("a", { href: `/schools/${encodeURIComponent(s.school_id)}/meeting`,
      "data-school-id": s.school_id }, s.name)])) : null,
  h("section", { class: "panel", "aria-labelledby": "decisions-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "decisions-title" },
      `${answer.decisions.length} decision${answer.decisions.length === 1 ? "" : "s"}`,
      overdue ? " overdue for review" : h("span", { class: "muted", id: "overdue-count" }, ` · ${overdueCount} overdue`)),
    h("div", { class: "downloads" }, csvLink(path, params, "Decisions CSV"))),
    answer.decisions.length ? h("ul", { class: "decisions", id: "decision-list" }, answer.decisions.map(item))
      : h("p", { class: "empty" }, overdue ? "Nothing is overdue for review." : "No decisions recorded yet.")));
});
