// Audit's query: the events API's parameters, read from the page's URL (the filters form reloads the page).
import { getJSON } from "./fathom.js";
import { NOW } from "./audit-common.js";

export const query = new URLSearchParams(location.search);

// --- the API query from the page's URL ------------------------------------------------------------

/** The events query: the page's filters (``event_type`` may be a comma-separated set), with ``extra`` overrides. */
export function apiParams(extra = {}) {
  const params = new URLSearchParams();
  for (const type of query.getAll("event_type").flatMap((value) => value.split(","))) {
    if (type) params.append("event_type", type);
  }
  for (const name of ["stream_type", "stream_id", "pupil_id", "objective_id", "class_id", "actor", "from", "to",
    "after", "limit"]) {
    const value = (query.get(name) || "").trim();
    if (value) params.set(name, value);
  }
  if (!params.has("limit")) params.set("limit", "50");
  for (const [key, value] of Object.entries(extra)) {
    if (value === null) params.delete(key);
    else params.set(key, value);
  }
  return params;
}

export function eventsPath(params) {
  const q = params.toString();
  return "/v1/audit/events" + (q ? "?" + q : "");
}

/** A page of events; the query is in the path, so getJSON adds nothing (NOW clears the page's as_of). */
export function fetchEvents(extra = {}) {
  return getJSON(eventsPath(apiParams(extra)), NOW);
}
