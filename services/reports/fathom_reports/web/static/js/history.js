// Judgement history: the whole life of one pupil on one objective, straight from the event log — every
// recording, correction and withdrawal with who, when and why, values with their bands, sequence and hash.
import { bandClass, bandKey, bandShort, data, formatDate, getJSON, h, load, mount, setCrumbs, setTitle } from "./fathom.js";
import { NOW, actorCell, asOfHref, shortHash, timeElement } from "./audit-common.js";

const { pupilId, objectiveId } = data;
const ACTIONS = { recorded: "Recorded", corrected: "Corrected", withdrawn: "Withdrawn" };

load(async () => {
  const enc = encodeURIComponent;
  const [history, events, profile] = await Promise.all([
    getJSON(`/v1/audit/pupils/${enc(pupilId)}/objectives/${enc(objectiveId)}/history`, NOW),
    getJSON(`/v1/audit/events?stream_type=pupil&stream_id=${enc(pupilId)}&objective_id=${enc(objectiveId)}`
      + "&event_type=JudgementRecorded&event_type=JudgementCorrected&event_type=JudgementWithdrawn&limit=1000", NOW)
      .catch(() => null),
    getJSON(`/v1/pupils/${enc(pupilId)}`, NOW).catch(() => null),
  ]);
  render(history, events, profile);
});

function render(history, events, profile) {
  const pupil = profile?.pupil || null;
  const objective = (profile?.objectives || []).find((o) => o.objective_id === objectiveId) || null;
  const scale = objective?.scale || null;
  const hashes = new Map((events?.events || []).map((e) => [e.sequence, e]));
  const name = pupil ? (pupil.erased ? "Erased pupil" : pupil.name || pupilId) : pupilId;
  const code = objective?.code || objectiveId;

  setTitle(`Judgement history: ${name}, ${code}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: "Audit", href: "/audit" },
    { label: `${name} · ${code}` }]);

  // Each judgement gets a short name (J1, J2…) in recording order, so the timeline reads on its own.
  const names = new Map(history.judgements.map((j, i) => [j.judgement_id, `J${i + 1}`]));
  mount("view",
    about(history, pupil, objective, scale, names, name),
    timeline(history, scale, names, hashes, events !== null));
}

function about(history, pupil, objective, scale, names, name) {
  const enc = encodeURIComponent;
  return h("section", { class: "panel history-about", "aria-labelledby": "about-heading" },
    h("h2", { id: "about-heading", class: "visually-hidden" }, "Pupil and objective"),
    h("dl", { class: "facts" },
      h("div", { class: "fact" }, h("dt", {}, "Pupil"), h("dd", {},
        h("a", { href: `/pupils/${enc(pupilId)}` }, name), " ", h("code", { class: "muted" }, pupilId),
        pupil?.class_id ? [" · class ", h("a", { href: `/classes/${enc(pupil.class_id)}` }, className(pupil))] : null,
        pupil?.left_on ? h("span", { class: "muted" }, ` (left ${formatDate(pupil.left_on)})`) : null)),
      h("div", { class: "fact" }, h("dt", {}, "Objective"), h("dd", {},
        objective ? [h("strong", {}, objective.code), " ", objective.text] : h("code", {}, objectiveId))),
      h("div", { class: "fact" }, h("dt", {}, "In the audit log"), h("dd", {},
        h("a", { href: `/audit?stream_type=pupil&stream_id=${enc(pupilId)}` }, "All this pupil's events"), " · ",
        h("a", { href: `/audit?pupil_id=${enc(pupilId)}&objective_id=${enc(objectiveId)}` },
          "Events on this objective")))),
    scale ? bandKey(scale) : h("p", { class: "hint" }, "Band labels are not available for this objective; values are "
      + "shown as numbers."),
    history.judgements.length ? h("div", { class: "table-scroll" }, h("table", { class: "judgements",
      id: "judgements" },
    h("caption", {}, "Judgements and where each stands now"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Judgement"), h("th", { scope: "col" }, "Assessed on"),
      h("th", { scope: "col" }, "Source"), h("th", { scope: "col" }, "Recorded by"),
      h("th", { scope: "col" }, "Recorded as"), h("th", { scope: "col" }, "Now"),
      h("th", { scope: "col" }, "Status"))),
    h("tbody", {}, history.judgements.map((j) => h("tr", { "data-judgement-id": j.judgement_id,
      "data-status": j.status },
    h("th", { scope: "row" }, names.get(j.judgement_id), " ", h("code", { class: "muted", title: j.judgement_id },
      j.judgement_id.slice(0, 8))),
    h("td", {}, formatDate(j.assessed_on)), h("td", {}, j.source), h("td", {}, j.recorded_by || "–"),
    h("td", {}, band(scale, j.original_value)),
    h("td", {}, j.status === "withdrawn" ? h("span", { class: "muted" }, "withdrawn") : band(scale, j.value)),
    h("td", {}, h("span", { class: `action action-${j.status}` }, ACTIONS[j.status] || j.status))))))) : null);
}

function className(pupil) {
  const current = (pupil.class_history || []).find((c) => c.class_id === pupil.class_id && !c.to_date);
  return current?.name || pupil.class_id;
}

function band(scale, value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "–");
  const found = (scale?.bands || []).find((b) => b.value === value);
  if (!found) return h("span", { class: "band-value" }, `value ${value}`);
  return h("span", { class: "band-value", "data-value": value },
    h("span", { class: bandClass(scale, value), "aria-hidden": "true" }, bandShort(found.label)), " ", found.label,
    found.secure ? h("span", { class: "muted" }, " (secure)") : null);
}

function timeline(history, scale, names, hashes, haveHashes) {
  const enc = encodeURIComponent;
  const section = h("section", { class: "panel", "aria-labelledby": "timeline-heading" },
    h("h2", { id: "timeline-heading" }, "Everything that happened, in order"));
  if (!history.entries.length) {
    section.append(h("p", { class: "empty", id: "no-history" },
      "No judgement has been recorded for this pupil on this objective."));
    return section;
  }
  const rows = history.entries.map((entry) => {
    const event = hashes.get(entry.sequence);
    let value;
    if (entry.action === "recorded") value = band(scale, entry.value);
    else if (entry.action === "corrected") {
      value = h("span", { class: "change" }, band(scale, entry.previous_value), h("span", { class: "arrow",
        "aria-label": "changed to" }, " → "), band(scale, entry.value));
    } else {
      value = h("span", { class: "change" }, h("del", {}, band(scale, entry.previous_value)),
        h("span", { class: "muted" }, " no longer counts"));
    }
    return h("tr", { class: `entry entry-${entry.action}`, "data-action": entry.action,
      "data-sequence": entry.sequence, "data-judgement-id": entry.judgement_id },
    h("td", { class: "number" }, entry.sequence),
    h("td", { class: "recorded" }, timeElement(entry.recorded_at)),
    h("th", { scope: "row" }, h("span", { class: `action action-${entry.action}` }, ACTIONS[entry.action]),
      " ", h("span", { class: "judgement-name", title: entry.judgement_id }, names.get(entry.judgement_id) || "")),
    h("td", { class: "value" }, value),
    h("td", { class: "date" }, formatDate(entry.assessed_on),
      entry.source ? h("span", { class: "source" }, entry.source) : null),
    actorCell(entry.who, entry.roles),
    h("td", { class: "why" }, entry.reason ? h("q", { class: "reason" }, entry.reason)
      : entry.note ? [h("span", { class: "muted" }, "Note: "), entry.note] : h("span", { class: "muted" }, "–")),
    haveHashes ? h("td", { class: "hash-cell" }, shortHash(event?.hash)) : null,
    h("td", { class: "links" }, h("ul", { class: "row-links" },
      h("li", {}, h("a", { href: asOfHref(`/pupils/${enc(pupilId)}`, entry.sequence - 1),
        title: `The pupil's profile just before event ${entry.sequence}` }, "Profile before")),
      h("li", {}, h("a", { href: asOfHref(`/pupils/${enc(pupilId)}`, entry.sequence),
        title: `The pupil's profile right after event ${entry.sequence}` }, "Profile after")))));
  });
  section.append(
    h("p", { class: "hint" }, "Straight from the event log: nothing is ever edited or deleted. A correction replaces "
      + "a judgement's value from then on; a withdrawal stops it counting. Times are UTC."),
    h("div", { class: "table-scroll" }, h("table", { class: "history", id: "history" },
      h("caption", { class: "visually-hidden" }, "Judgement events in the order they were recorded"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "number" }, "Sequence"),
        h("th", { scope: "col" }, "Recorded at"), h("th", { scope: "col" }, "What happened"),
        h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Assessed on"),
        h("th", { scope: "col" }, "Who"), h("th", { scope: "col" }, "Why"),
        haveHashes ? h("th", { scope: "col" }, "Hash") : null, h("th", { scope: "col" }, "As of"))),
      h("tbody", {}, rows))));
  return section;
}
