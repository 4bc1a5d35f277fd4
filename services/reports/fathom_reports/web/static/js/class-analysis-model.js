// Class Analysis's model: the filters' state (from the URL), the analysis on screen, the query they make,
// and the small text helpers the panels share.
import { data, h } from "./fathom.js";

const classId = data.classId;
export const ANALYSIS = `/v1/classes/${encodeURIComponent(classId)}/analysis`;
const initial = new URLSearchParams(location.search);
export const state = {
  subject: initial.get("subject") || "",
  group: initial.get("group") || "",
  source: initial.get("source") || "teacher",
};

export const known = { subjects: new Set(), custom: new Set() };
export let current = null;  // the analysis on screen

/** Keep ``view`` as the analysis on screen (the one the start-an-intervention dialog reads). */
export function setCurrent(view) {
  current = view;
}

// --- reading ----------------------------------------------------------------------------------

/** The analysis query for the current filters (fathom.js adds as_of and consistency). */
export function query(extra = {}) {
  return { subject: state.subject || null, group: state.group || null,
    source: state.source === "teacher" ? null : state.source, ...extra };
}

export function listText(items) {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/** Today's date (the person's own calendar) as YYYY-MM-DD. */
export function today() {
  const now = new Date();
  return [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")]
    .join("-");
}

export function objectiveLabel(objective) {
  return [h("span", { class: "code" }, objective.code), " ", h("span", { class: "objective-text" }, objective.text)];
}
