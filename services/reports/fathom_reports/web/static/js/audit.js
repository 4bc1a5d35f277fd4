// Audit: the trust's event log (filters, pages, every event's full payload), verification of the hash
// chain, exports, and time travel: any event's sequence number opens an analysis page as it stood then.
import {
  ApiError, getJSON, h, load, mount, postJSON, setCrumbs, setTitle, showProblem, showRefusal,
} from "./fathom.js";
import { NOW, actorCell, asOfHref, formatTime, historyHref, timeElement } from "./audit-common.js";

const EVENT_TYPES = {
  Judgements: ["JudgementRecorded", "JudgementCorrected", "JudgementWithdrawn", "StandardisedScoreRecorded"],
  Pupils: ["PupilRegistered", "PupilMoved", "PupilGroupsChanged", "PupilLeft", "PupilErased"],
  Curriculum: ["ObjectiveDefined", "ObjectiveRetired", "ObjectiveTaught", "ScaleDefined"],
  Interventions: ["InterventionStarted", "InterventionPupilsChanged", "InterventionEnded"],
  "Schools and trust": ["SchoolCreated", "ClassCreated", "TrustSettingsChanged", "RollupMethodChanged"],
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

const query = new URLSearchParams(location.search);
const state = { shown: 0, nextAfter: null, firstSequence: null, lastSequence: null };

load(async () => {
  setTitle("Audit");
  setCrumbs([{ label: "Home", href: "/" }, { label: "Audit" }]);
  let first;
  try {
    first = await fetchEvents();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 401)) {
      showRefusal(error, { id: "audit-refused", heading: "The audit log is for auditors",
        explanation: "Only people with the auditor (or platform admin) role can read the event history, verify "
          + "the chain or export events. If you need this, ask your trust's data protection lead." });
      return;
    }
    // A filter the API refused: show why, next to the filter, and keep the form to fix it.
    mount("view", verifyPanel(), timeTravelPanel(), eventsPanel());
    showProblem(error);
    markInvalid(error);
    mount("events-area", h("p", { class: "empty" }, "No events shown: fix the filters above."));
    fillDirectory();
    return;
  }
  mount("view", verifyPanel(), timeTravelPanel(), eventsPanel());
  showEvents(first, false);
  fillDirectory();
});

// --- the API query from the page's URL ------------------------------------------------------------

/** The events query: the page's filters (``event_type`` may be a comma-separated set), with ``extra`` overrides. */
function apiParams(extra = {}) {
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

function eventsPath(params) {
  const q = params.toString();
  return "/v1/audit/events" + (q ? "?" + q : "");
}

/** A page of events; the query is in the path, so getJSON adds nothing (NOW clears the page's as_of). */
function fetchEvents(extra = {}) {
  return getJSON(eventsPath(apiParams(extra)), NOW);
}

// --- verification --------------------------------------------------------------------------------

function verifyPanel() {
  const result = h("div", { id: "verify-result", class: "verify-result", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "verify-chain", class: "primary", onclick: () => verify(button,
    result) }, "Verify chain");
  return h("section", { class: "panel verify-panel", "aria-labelledby": "verify-heading" },
    h("div", { class: "verify-head" },
      h("div", {},
        h("h2", { id: "verify-heading" }, "Tamper evidence"),
        h("p", { class: "hint" }, "Every event carries a hash of itself and of the event before it. Verifying "
          + "recomputes the whole chain from the first event and checks it ends at the trust's recorded head: "
          + "any edited, removed or reordered event shows as a break.")),
      button),
    result);
}

async function verify(button, result) {
  button.disabled = true;
  result.className = "verify-result verify-running";
  result.replaceChildren("Verifying the whole chain… this reads every event.");
  try {
    const report = await verifyInBackground(result);
    let head = null;
    if (report.head_sequence > 0) {
      const params = new URLSearchParams({ after: String(report.head_sequence - 1), limit: "1" });
      head = (await getJSON(eventsPath(params), NOW).catch(() => null))?.events?.[0] || null;
    }
    result.className = `verify-result ${report.ok ? "verify-ok" : "verify-broken"}`;
    result.dataset.ok = String(report.ok);
    const facts = h("dl", { class: "verify-facts" },
      h("div", {}, h("dt", {}, "Events checked"), h("dd", { id: "verify-events-checked" },
        report.events_checked.toLocaleString("en-GB"))),
      h("div", {}, h("dt", {}, "Head sequence"), h("dd", {}, report.head_sequence.toLocaleString("en-GB"))),
      head && head.sequence === report.head_sequence
        ? h("div", { class: "verify-hash" }, h("dt", {}, "Head hash"), h("dd", {}, h("code", { class: "hash-full" },
          head.hash))) : null,
      h("div", {}, h("dt", {}, "Checked at"), h("dd", {}, formatTime(new Date().toISOString()))));
    if (report.ok) {
      result.replaceChildren(h("p", { class: "verify-verdict" }, h("span", { "aria-hidden": "true" }, "✓ "),
        "Chain intact: ", `all ${report.events_checked.toLocaleString("en-GB")} events verified, none altered, `
        + "removed or reordered."), facts,
      h("p", { class: "hint" }, h("a", { href: latestHref(report.head_sequence) }, "Show the latest events")));
    } else {
      const broken = report.first_broken;
      result.replaceChildren(h("p", { class: "verify-verdict" }, h("span", { "aria-hidden": "true" }, "✗ "),
        `Chain broken at sequence ${broken.sequence}`, broken.event_id ? ` (event ${broken.event_id})` : "",
        `: ${broken.reason}`), facts,
      h("p", {}, `The ${report.events_checked.toLocaleString("en-GB")} events before it verified. `,
        h("a", { href: `/audit?after=${Math.max(0, broken.sequence - 3)}&limit=50` }, "Show the events around the break"),
        ". Report this to your platform's operators: the log must never change."));
    }
  } catch (error) {
    result.className = "verify-result verify-broken";
    result.replaceChildren(h("p", { class: "verify-verdict" }, "Verification could not run: ",
      error.title || String(error), error.detail ? ` — ${error.detail}` : ""));
  } finally {
    button.disabled = false;
  }
}

/** Start (or join) the trust's verification job and show its progress until it is done; its report. */
async function verifyInBackground(result) {
  const progress = h("progress", { id: "verify-progress", max: "1", value: "0" });
  const counted = h("span", { id: "verify-progress-text" }, "Queued…");
  result.replaceChildren(h("p", {}, "Verifying the whole chain in the background… this reads every event."),
    h("p", {}, progress, " ", counted));
  let job = await postJSON("/v1/audit/verifications");
  while (job.status !== "done") {
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await getJSON(job.location, NOW);
    progress.value = job.progress;
    counted.textContent = `${job.events_checked.toLocaleString("en-GB")} of `
      + `${job.events_total.toLocaleString("en-GB")} events checked`;
  }
  return job.result;
}

function latestHref(head) {
  const limit = Number(query.get("limit")) || 50;
  return `/audit?after=${Math.max(0, head - limit)}&limit=${limit}`;
}

// --- time travel ---------------------------------------------------------------------------------

function timeTravelPanel() {
  const moment = h("input", { id: "travel-moment", name: "moment", type: "text", inputmode: "numeric", required: true,
    placeholder: "e.g. 2437 or 2026-11-05T09:30:00", "aria-describedby": "travel-hint",
  });
  const target = h("select", { id: "travel-target", name: "target" }, h("option", { value: "/trust" },
    "Trust analysis"));
  const error = h("p", { id: "travel-error", class: "field-error", hidden: true });
  const submit = (event) => {
    event.preventDefault();
    const value = moment.value.trim();
    const valid = /^\d{1,18}$/.test(value) || (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(Date.parse(value)));
    if (!valid) {
      moment.setAttribute("aria-invalid", "true");
      error.textContent = "Enter a sequence number (e.g. 2437) or a UTC time (e.g. 2026-11-05T09:30:00).";
      error.hidden = false;
      moment.focus();
      return;
    }
    location.assign(asOfHref(target.value, value));
  };
  return h("section", { class: "panel travel-panel", "aria-labelledby": "travel-heading" },
    h("h2", { id: "travel-heading" }, "See the data as it stood at any moment"),
    h("p", { class: "hint", id: "travel-hint" }, "Analysis pages (trust, school, class, pupil) have an ",
      h("strong", {}, "As of"), " picker: they then show exactly what was known at that moment — later "
      + "judgements, corrections, withdrawals and moves left out — replayed from this log. A moment is a time "
      + "(UTC) or an event's sequence number: “as of 2437” means right after event 2437. Each event below links "
      + "to its class or pupil as of that event."),
    h("form", { class: "toolbar travel-form", id: "travel-form", onsubmit: submit },
      h("label", { for: "travel-target" }, "Page", target),
      h("label", { for: "travel-moment" }, "As of (sequence or UTC time)", moment),
      h("button", { type: "submit" }, "Open as of then")),
    error);
}

async function fillDirectory() {
  const target = document.getElementById("travel-target");
  if (!target) return;
  try {
    const directory = await getJSON("/v1/directory", NOW);
    for (const school of directory.schools) {
      target.append(h("optgroup", { label: school.name },
        h("option", { value: `/schools/${encodeURIComponent(school.school_id)}` }, `${school.name} (school)`),
        school.classes.map((klass) => h("option", { value: `/classes/${encodeURIComponent(klass.class_id)}` },
          `Class ${klass.name} · Year ${klass.year_group}`))));
    }
  } catch (error) {
    console.warn("directory unavailable for the time-travel targets", error);
  }
}

// --- filters -------------------------------------------------------------------------------------

function eventsPanel() {
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

function markInvalid(error) {
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

// --- the table -----------------------------------------------------------------------------------

function showEvents(page, append) {
  const area = document.getElementById("events-area");
  let body = document.getElementById("events-body");
  if (!append || !body) {
    if (!page.events.length) {
      mount(area, h("p", { class: "empty", id: "no-events" }, "No events match these filters."));
      return;
    }
    body = h("tbody", { id: "events-body" });
    mount(area,
      h("p", { class: "events-count", id: "events-count" }),
      h("div", { class: "table-scroll" }, h("table", { class: "events", id: "events" },
        h("caption", { class: "visually-hidden" }, "Events, oldest first"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col", class: "number" }, "Sequence"), h("th", { scope: "col" }, "Recorded at (UTC)"),
          h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Stream"), h("th", { scope: "col" }, "Actor"),
          h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Links"))),
        body)),
      h("div", { class: "paging", id: "paging" }));
    state.shown = 0;
    state.firstSequence = page.events[0].sequence;
  }
  for (const event of page.events) body.append(...eventRows(event));
  state.shown += page.events.length;
  if (page.events.length) state.lastSequence = page.events[page.events.length - 1].sequence;
  state.nextAfter = page.next_after;
  document.getElementById("events-count").textContent = `Showing ${state.shown.toLocaleString("en-GB")} event`
    + `${state.shown === 1 ? "" : "s"}, sequence ${state.firstSequence} to ${state.lastSequence}, oldest first.`;
  const paging = document.getElementById("paging");
  const earlier = Number(query.get("after") || 0) > 0
    ? h("a", { class: "button", href: earlierHref() }, "← Earlier events") : null;
  if (state.nextAfter !== null) {
    const more = h("button", { type: "button", id: "load-more", class: "primary" }, "Load more (later events)");
    more.addEventListener("click", async () => {
      more.disabled = true;
      more.textContent = "Loading…";
      try {
        showEvents(await fetchEvents({ after: String(state.nextAfter) }), true);
      } catch (error) {
        showProblem(error);
        more.disabled = false;
        more.textContent = "Load more (later events)";
      }
    });
    mount(paging, earlier, more);
  } else {
    mount(paging, earlier, h("span", { class: "muted", id: "end-of-log" }, "End of the log for these filters."));
  }
}

function earlierHref() {
  const params = new URLSearchParams(location.search);
  const limit = Number(params.get("limit")) || 50;
  params.set("after", String(Math.max(0, Number(params.get("after")) - limit)));
  return `/audit?${params}`;
}

function eventRows(event) {
  const detailId = `event-${event.sequence}-detail`;
  const toggle = h("button", { type: "button", class: "link-like toggle", "aria-expanded": "false",
    "aria-controls": detailId, "aria-label": `Details of event ${event.sequence}` }, "▸ ", String(event.sequence));
  const detail = h("tr", { class: "event-detail", id: detailId, hidden: true },
    h("td", { colspan: 7 }, h("div", { class: "detail-grid" },
      h("dl", { class: "detail-facts" },
        pair("Event id", h("code", {}, event.event_id)),
        pair("Schema", `version ${event.schema_version}` + (event.data_version !== event.schema_version
          ? ` (shown upcast to version ${event.data_version})` : "")),
        pair("Request", event.request_id ? h("code", {}, event.request_id) : "–"),
        pair("Hash", h("code", { class: "hash-full" }, event.hash)),
        pair("Previous hash", h("code", { class: "hash-full" }, event.prev_hash)),
        event.upcast_error ? pair("Could not read", h("span", { class: "field-error" }, event.upcast_error)) : null),
      h("pre", { class: "payload", tabindex: 0, "aria-label": `Full JSON of event ${event.sequence}` },
        JSON.stringify(event, null, 2)))));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.firstChild.textContent = open ? "▾ " : "▸ ";
    detail.hidden = !open;
  });
  const row = h("tr", { class: "event-row", "data-sequence": event.sequence, "data-type": event.type },
    h("td", { class: "number sequence" }, toggle),
    h("td", { class: "recorded" }, timeElement(event.recorded_at, { zone: false })),
    h("td", { class: "type" }, h("span", { class: `type-badge type-${family(event.type)}` }, humanType(event.type))),
    h("td", { class: "stream" }, h("span", { class: "stream-type" }, event.stream.type), " ",
      h("a", { href: `/audit?stream_type=${encodeURIComponent(event.stream.type)}&stream_id=`
        + `${encodeURIComponent(event.stream.id)}`, title: `All events of this ${event.stream.type}` }, event.stream.id),
      h("span", { class: "stream-version" }, ` v${event.stream.version}`)),
    actorCell(event.actor, event.roles),
    h("td", { class: "summary" }, summarise(event)),
    h("td", { class: "links" }, links(event)));
  return [row, detail];
}

function pair(term, value) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, value));
}

function links(event) {
  const d = event.data || {};
  const items = [];
  if (event.type.startsWith("Judgement") && d.pupil_id && d.objective_id) {
    items.push(h("a", { href: historyHref(d.pupil_id, d.objective_id), class: "history-link" }, "Judgement history"));
  }
  const classId = d.class_id || (event.stream.type === "class" ? event.stream.id : null);
  if (classId) {
    items.push(h("a", { href: asOfHref(`/classes/${encodeURIComponent(classId)}`, event.sequence), class: "as-of-link",
      "data-as-of": event.sequence, title: `Class ${classId} as it stood right after event ${event.sequence}` },
    "Class as of this event"));
  }
  const pupilId = d.pupil_id || (event.stream.type === "pupil" ? event.stream.id : null);
  if (pupilId) {
    items.push(h("a", { href: asOfHref(`/pupils/${encodeURIComponent(pupilId)}`, event.sequence), class: "as-of-link",
      "data-as-of": event.sequence, title: `Pupil ${pupilId} as they stood right after event ${event.sequence}` },
    "Pupil as of this event"));
  }
  if (event.stream.type === "intervention") {
    items.push(h("a", { href: asOfHref(`/interventions/${encodeURIComponent(event.stream.id)}`, event.sequence),
      class: "as-of-link", "data-as-of": event.sequence }, "Intervention as of this event"));
  }
  return items.length ? h("ul", { class: "row-links" }, items.map((item) => h("li", {}, item))) : null;
}

function humanType(type) {
  return type.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/ (\w)/g, (m) => m.toLowerCase());
}

function family(type) {
  if (type === "JudgementCorrected" || type === "JudgementWithdrawn") return "amend";
  if (type.startsWith("Judgement") || type.startsWith("Standardised")) return "judgement";
  if (type.startsWith("Pupil")) return "pupil";
  if (type.startsWith("Intervention")) return "intervention";
  return "other";
}

function quote(text) {
  return text ? h("q", { class: "reason" }, text) : null;
}

// Erasable texts: what the event's ids stand for now (``texts``), else an old event's inline text.
function erasable(event, name) {
  const t = event.texts || {};
  const d = event.data || {};
  if (name in t) return t[name];
  return d[`legacy_${name}`] ?? d[name] ?? (name === "note" ? d.comment : null);
}

function summarise(event) {
  const d = event.data || {};
  const text = (name) => erasable(event, name);
  const code = (value) => h("code", {}, value);
  const on = (date) => (date ? ` on ${date}` : "");
  // The pupil is already named in the stream column when the event is on the pupil's own stream.
  const who = (pupilId, objectiveId) => [event.stream.type === "pupil" && event.stream.id === pupilId ? null
    : [code(pupilId), " · "], code(objectiveId)];
  switch (event.type) {
    case "JudgementRecorded":
      return [who(d.pupil_id, d.objective_id), `: value ${d.value}${on(d.assessed_on)}`,
        d.source && d.source !== "teacher" ? ` (${d.source})` : "", text("note") ? [" ", quote(text("note"))] : null];
    case "JudgementCorrected":
      return [who(d.pupil_id, d.objective_id), `: corrected to value ${d.value} `, quote(text("reason"))];
    case "JudgementWithdrawn":
      return [who(d.pupil_id, d.objective_id), ": withdrawn ", quote(text("reason"))];
    case "StandardisedScoreRecorded":
      return [code(d.pupil_id), `: ${d.test} ${d.score}${on(d.taken_on)}`];
    case "PupilRegistered":
      return [code(d.pupil_id), " in ", code(d.class_id), `, Year ${d.year_group}`];
    case "PupilMoved":
      return [code(d.pupil_id), " to ", code(d.class_id), on(d.moved_on)];
    case "PupilLeft":
      return [code(d.pupil_id), ` left${on(d.left_on)}`];
    case "PupilErased":
      return [code(d.pupil_id), " erased (personal details removed)"];
    case "PupilGroupsChanged":
      return [code(d.pupil_id), ": groups ", compact(d.groups)];
    case "ClassCreated":
      return [`Class ${d.name}, Year ${d.year_group}, ${d.academic_year} in `, code(d.school_id)];
    case "SchoolCreated":
      return [d.name];
    case "ObjectiveDefined":
      return [h("strong", {}, d.code), ` ${d.text}`];
    case "ObjectiveRetired":
      return [code(d.objective_id), ` retired${on(d.retired_on)}`];
    case "ObjectiveTaught":
      return [code(d.class_id), " taught ", code(d.objective_id), on(d.taught_on)];
    case "ScaleDefined":
      return [`${d.name} (${(d.bands || []).length} bands, version ${d.version})`];
    case "InterventionStarted":
      return [`${text("name") ?? "(name erased)"}, led by ${text("lead") ?? "(erased)"}: `
        + `${(d.pupil_ids || []).length} pupils, `
        + `${(d.objective_ids || []).length} objectives from ${d.start_date}`];
    case "InterventionPupilsChanged":
      return [`+${(d.added || []).length} / −${(d.removed || []).length} pupils${on(d.changed_on)}`];
    case "InterventionEnded":
      return [`Ended${on(d.end_date)}`, text("outcome") ? [" ", quote(text("outcome"))] : null];
    default:
      return compact(d);
  }
}

function compact(value) {
  const text = JSON.stringify(value ?? {});
  return h("code", { class: "compact", title: text }, text.length > 90 ? text.slice(0, 89) + "…" : text);
}

