// Shared by the audit page and the judgement history page: times in UTC, hashes, links.
import { h } from "./fathom.js";

/** The auditors' reads never take the page's as_of/consistency (the log is the source of truth, always now). */
export const NOW = { as_of: null, consistency: null };

/** "22 Nov 2026, 19:14:21 UTC": the log records UTC, and the as-of picker asks for UTC. */
export function formatTime(iso, { zone = true } = {}) {
  if (!iso) return "";
  const text = new Date(iso).toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: "UTC" });
  return zone ? `${text} UTC` : text.replace(",", "");
}

/** A <time> element for a recorded instant (the full ISO value in its title). */
export function timeElement(iso, options = {}) {
  return h("time", { datetime: iso, title: iso }, formatTime(iso, options));
}

/** A hash shortened for a table, the whole of it in the title and for screen readers. */
export function shortHash(hash) {
  if (!hash) return h("span", { class: "muted" }, "–");
  return h("code", { class: "hash", title: hash, "aria-label": `hash ${hash}` }, `${hash.slice(0, 10)}…`);
}

export function historyHref(pupilId, objectiveId) {
  return `/audit/pupils/${encodeURIComponent(pupilId)}/objectives/${encodeURIComponent(objectiveId)}`;
}

export function asOfHref(path, sequence) {
  return `${path}?as_of=${encodeURIComponent(sequence)}`;
}

/** Who did it: the token subject and, smaller, their roles. */
export function actorCell(sub, roles) {
  return h("td", { class: "actor" }, sub ? h("span", { class: "actor-sub" }, sub) : h("span", { class: "muted" }, "–"),
    roles && roles.length ? h("span", { class: "actor-roles" }, roles.map((r) => r.replaceAll("_", " ")).join(", "))
      : null);
}
