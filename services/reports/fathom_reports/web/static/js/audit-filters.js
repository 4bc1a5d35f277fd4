// Audit's filters panel: event types, stream, ids, time range and page size, and the exports they make.
import { h } from "./fathom.js";
import { humanType } from "./audit-events.js";
import { apiParams, eventsPath, query } from "./audit-query.js";

const EVENT_TYPES = {
  Judgements: ["JudgementRecorded", "JudgementCorrected", "JudgementWithdrawn", "StandardisedScoreRecorded"],
  Pupils: ["PupilRegistered", "PupilMoved", "PupilGroupsChanged", "PupilLeft", "PupilErased"],
  Curriculum: ["ObjectiveDefined", "ObjectiveRetired", "ObjectiveTaught", "ScaleDefined"],
  Interventions: ["InterventionStarted", "InterventionPupilsChanged", "InterventionEnded"],
  "Schools and trust": ["SchoolCreated", "ClassCreated", "TrustSettingsChanged", "TrustSettingsReset",
    "RollupMethodChanged"],
  "Staff access": ["StaffAssigned", "StaffUnassigned"],
};

const TYPE_SETS = [
  ["JudgementRecorded,JudgementCorrected,JudgementWithdrawn", "Any judgement event (recorded, corrected, withdrawn)"],
  ["JudgementCorrected,JudgementWithdrawn", "Corrections and withdrawals"],
];

const STREAM_TYPES = ["pupil", "class", "class_staff", "objective", "scale", "school", "intervention", "trust"];
const PAGE_SIZES = [50, 100, 250, 500];
const TEXT_FILTERS = [
  ["pupil_id", "Pupil id", "e.g. school-a-y4A-p01"],
  ["objective_id", "Objective id", "e.g. y4-mat-01"],
  ["class_id", "Class id", "e.g. school-a-y4A"],
  ["actor", "Actor (who)", "token subject"],
];

// --- filters -------------------------------------------------------------------------------------

export function eventsPanel() {
  const selectedTypes = query.getAll("event_type").join(",");
  const typeSelect = h("select", { id: "filter-type", name: "event_type" },
    h("option", { value: "" }, "Any type"),
    h("optgroup", { label: "Sets" }, TYPE_SETS.map(([value, label]) => h("option", { value,
      selected: selectedTypes === value }, label))),
    Object.entries(EVENT_TYPES).map(([group, types]) => h("optgroup", { label: group }, types.map((type) =>
      h("option", { value: type, selected: selectedTypes === type }, humanType(type))))));
  const streamType = h("select", { id: "filter-stream-type", name: "stream_type" },
    h("option", { value: "" }, "Any stream"),
    STREAM_TYPES.map((type) => h("option", { value: type, selected: query.get("stream_type") === type }, type)));
  const field = (name, label, input) => h("label", { for: input.id, "data-field": name }, label, input);
  const text = (name, label, placeholder) => field(name, label, h("input", { id: `filter-${name}`, name, type: "text",
    placeholder, value: query.get(name) || "" }));
  const when = (name, label) => field(name, label, h("input", { id: `filter-${name}`, name, type: "datetime-local",
    step: 1, value: (query.get(name) || "").slice(0, 19) }));
  const limit = h("select", { id: "filter-limit", name: "limit" }, PAGE_SIZES.map((n) => h("option",
    { value: n, selected: String(n) === (query.get("limit") || "50") }, `${n} per page`)));
  const active = [...query.keys()].some((key) => key !== "limit");
  return h("section", { class: "panel events-panel", "aria-labelledby": "events-heading" },
    h("div", { class: "events-head" },
      h("h2", { id: "events-heading" }, "Event history"),
      h("div", { class: "exports" }, "Export everything matching: ",
        exportLink("csv", "CSV"), exportLink("jsonl", "NDJSON"))),
    h("form", { class: "filters", id: "audit-filters", method: "get", action: "/audit", "aria-label": "Filter events" },
      h("div", { class: "toolbar" },
        field("event_type", "Event type", typeSelect),
        field("stream_type", "Stream", streamType),
        text("stream_id", "Stream id", "with a stream type"),
        ...TEXT_FILTERS.slice(0, 3).map(([name, label, placeholder]) => text(name, label, placeholder))),
      h("div", { class: "toolbar" },
        text(...TEXT_FILTERS[3]),
        when("from", "Recorded from (UTC)"),
        when("to", "Recorded to (UTC)"),
        field("after", "After sequence", h("input", { id: "filter-after", name: "after", type: "number", min: 0,
          value: query.get("after") || "", placeholder: "0" })),
        field("limit", "Page size", limit),
        h("div", { class: "filter-buttons" },
          h("button", { type: "submit", class: "primary" }, "Apply filters"),
          active ? h("a", { href: "/audit", class: "button" }, "Clear") : null))),
    h("div", { id: "events-area", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading events…")));
}

function exportLink(format, label) {
  const params = apiParams({ limit: null, format });
  return h("a", { class: "button export", href: eventsPath(params), download: "", "data-format": format }, label);
}

export function markInvalid(error) {
  for (const key of Object.keys(error.errors || {})) {
    const name = key.replace(/^query\./, "").split(".")[0].replace(/_$/, "");
    const input = document.getElementById(`filter-${name.replaceAll("_", "-")}`) || document.getElementById(
      `filter-${name}`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.closest("label")?.append(h("span", { class: "field-error" }, error.errors[key].join(" ")));
    }
  }
}
