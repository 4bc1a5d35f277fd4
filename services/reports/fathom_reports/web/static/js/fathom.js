// What every page shares: reading the JSON API, sending commands, building DOM, bands and bars.
// No inline scripts or styles anywhere (the Content-Security-Policy forbids them): pages build DOM
// with h() and set sizes through element.style, which the policy allows.

export const root = document.getElementById("main");
export const data = root ? root.dataset : {};
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

/** A problem+json answer (RFC 9457) as an Error: .status, .title, .detail, .errors {field: [messages]}. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || "";
    this.errors = problem.errors || {};
  }
}

async function parse(response) {
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401) {  // the session expired: sign in again and come back here
      window.location.assign("/sign-in?next=" + encodeURIComponent(location.pathname + location.search));
    }
    throw new ApiError(response.status, typeof body === "object" ? body : { title: body });
  }
  return body;
}

/** The page's "as of" moment (?as_of=…), or null for today. */
export function asOf() {
  return new URLSearchParams(location.search).get("as_of");
}

/** The page's ``consistency`` (?consistency=N: a sequence the reads must wait for, e.g. after a save). */
export function consistency() {
  const value = new URLSearchParams(location.search).get("consistency");
  return value && /^\d+$/.test(value) ? `at_least:${value}` : value;  // a bare sequence means "at least" it
}

/** URL of a read endpoint with its query; the page's ``as_of`` and ``consistency`` are added unless params set them. */
export function readUrl(path, params = {}) {
  const query = new URLSearchParams();
  const moment = asOf();
  const merged = { as_of: moment, consistency: moment ? null : consistency(), ...params };
  for (const [key, value] of Object.entries(merged)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const q = query.toString();
  return path + (q ? "?" + q : "");
}

/** GET a read endpoint (``/v1/…`` on this origin, authenticated by the session cookie). */
export async function getJSON(path, params = {}) {
  const response = await fetch(readUrl(path, params), { headers: { Accept: "application/json" } });
  return parse(response);
}

/** POST to a read endpoint (``/v1/…`` on this origin, e.g. starting a verification job) with the CSRF token. */
export async function postJSON(path) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
  return parse(await fetch(path, { method: "POST", headers }));
}

/** Send a command (``/api/v1/…``, forwarded to the command API) with the CSRF token. */
export async function send(method, path, body, { idempotencyKey } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch("/api" + path, { method, headers, body: JSON.stringify(body) });
  return parse(response);
}

/** Build an element: h("a", {href: "/", class: "x", onclick: fn, "aria-label": "…"}, "text", child…). */
export function h(tag, attrs = {}, ...children) {
  const element = tag === "svg" || attrs.svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false || key === "svg") continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "class") element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "style" && typeof value === "object") Object.assign(element.style, value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An SVG element (h() for the SVG namespace). */
export function s(tag, attrs = {}, ...children) {
  return h(tag, { ...attrs, svg: true }, ...children);
}

/** Replace the contents of ``target`` (an element or id) with ``children``. */
export function mount(target, ...children) {
  const element = typeof target === "string" ? document.getElementById(target) : target;
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  element.removeAttribute("aria-busy");
  return element;
}

/** Say something in the page's live status region (kind: "info", "ok" or "error"). */
export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  if (!status) return;
  status.className = `status status-${kind}`;
  status.textContent = message;
}

/** Show an error (an ApiError's title, detail and field errors, or anything else thrown) in the status region.
 * Every part goes through mount(), which skips absent parts: replaceChildren would print them as "null". */
export function showProblem(error) {
  const status = document.getElementById("status");
  if (!status) return;
  status.className = "status status-error";
  const problem = error ?? {};
  const detail = problem.detail || (problem.title || error === null || error === undefined ? "" : String(error));
  const fields = Object.entries(problem.errors || {}).map(([field, messages]) => h("li", {}, h("code", {}, field),
    ": ", [messages].flat().join(" ")));
  mount(status, h("strong", {}, problem.title || "Something went wrong"), detail ? ` ${detail}` : null,
    fields.length ? h("ul", {}, fields) : null);
}

/** The one "you cannot see this" panel every page draws when the API refuses a read (403), finds nothing (404) or
 * cannot answer yet: the API's own words go to the status region, and the view says what that means here.
 * ``heading`` and ``explanation`` say it in the page's terms; ``more`` adds elements (e.g. what the person may
 * open instead); ``id`` names the panel for a page that needs to; ``back`` labels the way home. */
export function showRefusal(error, { heading, explanation, more = null, id = null, back = "Back to home" }) {
  showProblem(error);
  const view = document.getElementById("view");
  if (!view) return;
  const attributes = { class: "panel refusal", id, "data-status": error.status || "",
    "aria-labelledby": "refusal-title" };
  mount(view, h("section", attributes, h("h2", { id: "refusal-title" }, heading), h("p", {}, explanation), more,
    h("p", {}, h("a", { class: "button", href: withAsOf("/") }, back))));
}

/** Run a page's loader, showing a clear message (not a blank page) when it fails. */
export async function load(render) {
  try {
    await render();
  } catch (error) {
    showProblem(error);
    const view = document.getElementById("view");
    if (view) mount(view, h("p", { class: "empty" }, "This page could not be shown."));
    console.error(error);
  }
}

/** Breadcrumbs: [{label, href}], the last one is the current page; an earlier one without ``href`` (a level the
 * person may not open) is plain text. */
export function setCrumbs(items) {
  const crumbs = document.getElementById("crumbs");
  if (!crumbs) return;
  crumbs.replaceChildren(h("ol", {}, items.map((item, i) => h("li", {},
    i === items.length - 1 ? h("span", { "aria-current": "page" }, item.label)
      : item.href ? h("a", { href: withAsOf(item.href) }, item.label) : h("span", {}, item.label)))));
}

/** Keep the page's "as of" moment on links between pages. */
export function withAsOf(href) {
  const moment = asOf();
  if (!moment || !href.startsWith("/")) return href;
  return href + (href.includes("?") ? "&" : "?") + "as_of=" + encodeURIComponent(moment);
}

/** "maths" → "Maths". */
export function capitalise(text) {
  const value = String(text ?? "");
  return value ? value[0].toUpperCase() + value.slice(1) : value;
}

/** An ``as_of`` in words: "after event 2437" or "at 5 November 2026 at 09:30 UTC". */
export function describeMoment(moment) {
  if (/^\d+$/.test(moment)) return `after event ${moment}`;
  const date = new Date(/([zZ]|[+-]\d\d:?\d\d)$/.test(moment) ? moment : `${moment}Z`);
  if (Number.isNaN(date.getTime())) return `at ${moment}`;
  return `at ${date.toLocaleString("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" })} UTC`;
}

/** The "viewing the past" banner (null today); ``limits`` says what the page does not offer in the past. */
export function asOfBanner(limits = "") {
  const moment = asOf();
  if (!moment) return null;
  return h("div", { class: "as-of-banner", role: "note" }, h("strong", {}, "Viewing the past. "),
    `This is how things stood ${describeMoment(moment)}: later judgements, corrections and withdrawals are not `
    + `shown.${limits ? ` ${limits}` : ""}`);
}

export function setTitle(text) {
  const title = document.getElementById("page-title");
  if (title) title.textContent = text;
  document.title = `${text} · Fathom`;
}

/** A link to an endpoint's CSV (same endpoint, ``format=csv``): the browser downloads it with the cookie. */
export function csvLink(path, params = {}, label = "Download CSV") {
  return h("a", { class: "button csv", href: readUrl(path, { ...params, format: "csv" }), download: "" }, label);
}

// --- bands -------------------------------------------------------------------------------
// Seven colour-blind-safe steps (ColorBrewer PuOr, orange → purple); a scale of n bands uses n of
// them spread evenly. Text colours are set per step in app.css for WCAG AA contrast, and every
// cell also shows the band's label, so nothing depends on colour alone.

/** CSS class for ``value`` on ``scale`` ({bands: [{value, label, secure}]}). */
export function bandClass(scale, value) {
  const bands = scale.bands || [];
  const index = bands.findIndex((band) => band.value === value);
  if (index < 0) return "band band-none";
  const step = bands.length === 1 ? 6 : Math.round((index * 6) / (bands.length - 1));
  return `band band-${step}${bands[index].secure ? " band-secure" : ""}`;
}

/** Short label for a cell: initials of the band label ("Emerging" → "E", "Working towards" → "WT"). */
export function bandShort(label) {
  const words = String(label).split(/[\s/-]+/).filter(Boolean);
  if (words.length === 1) return words[0].slice(0, 2) === words[0].slice(0, 2).toUpperCase() ? words[0].slice(0, 3)
    : words[0][0].toUpperCase();
  return words.map((w) => w[0].toUpperCase()).join("").slice(0, 3);
}

/** A band key for a scale: swatch, short and full label, and which are secure. */
export function bandKey(scale) {
  return h("ul", { class: "band-key", "aria-label": `Key: ${scale.name}` }, (scale.bands || []).map((band) =>
    h("li", {}, h("span", { class: bandClass(scale, band.value) }, bandShort(band.label)), " ", band.label,
      band.secure ? " (secure)" : "")));
}

/** A stacked bar of how many pupils are in each band, with % secure; ``counts``: [{value, label, secure, count}]. */
export function distributionBar(scale, counts, { assessed, notAssessed = 0, percentSecure = null, small = false,
  href = null } = {}) {
  const total = counts.reduce((sum, c) => sum + c.count, 0) + notAssessed;
  const description = counts.map((c) => `${c.label} ${c.count}`).join(", ")
    + (notAssessed ? `, not assessed ${notAssessed}` : "")
    + (percentSecure === null ? "" : `; ${percentSecure}% secure`) + (small ? " (small group)" : "");
  const segments = counts.filter((c) => c.count > 0).map((c) => {
    const segment = h("span", { class: `bar-segment ${bandClass(scale, c.value)}`, title: `${c.label}: ${c.count}` },
      c.count);
    segment.style.flexGrow = String(c.count);
    return segment;
  });
  if (notAssessed) {
    const gap = h("span", { class: "bar-segment bar-not-assessed", title: `Not assessed: ${notAssessed}` }, notAssessed);
    gap.style.flexGrow = String(notAssessed);
    segments.push(gap);
  }
  const bar = h("span", { class: "bar", role: "img", "aria-label": description }, total ? segments : h("span",
    { class: "bar-empty" }, "no pupils"));
  const secure = percentSecure === null ? null : h("span", { class: "bar-secure" }, `${percentSecure}%`,
    small ? h("abbr", { class: "small-group", title: "Small group: too few pupils to compare" }, "*") : null);
  const figure = h("span", { class: "distribution", "data-assessed": assessed ?? "" }, bar, secure);
  return href ? h("a", { href: withAsOf(href), class: "distribution-link" }, figure) : figure;
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? iso + "T00:00:00Z" : iso);
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** A random idempotency key, so a retried Save never records twice. */
export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
}
