// Audit's events table: a page of events, each with a summary, its links and its full payload; more pages.
import { h, mount, showProblem } from "./fathom.js";
import { actorCell, asOfHref, historyHref, timeElement } from "./audit-common.js";
import { fetchEvents, query } from "./audit-query.js";

const state = { shown: 0, nextAfter: null, firstSequence: null, lastSequence: null };

// --- the table -----------------------------------------------------------------------------------

export function showEvents(page, append) {
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

export function humanType(type) {
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
