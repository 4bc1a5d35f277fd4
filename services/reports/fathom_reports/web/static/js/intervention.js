// Intervention: who, what, when; each pupil × objective before and after; who moved to secure, overall,
// per objective and by pupil group; and, while it runs, a form to end it.
import {
  ApiError, asOf, asOfBanner, bandClass, bandShort, csvLink, data, formatDate, getJSON, h, load, mount, newKey, send,
  setCrumbs, setTitle, showProblem, showStatus, withAsOf,
} from "./fathom.js";

const DIMENSIONS = {
  pupil_premium: { title: "Pupil premium", values: { yes: "Pupil premium", no: "Not pupil premium" } },
  sen: { title: "Special educational needs", values: { none: "No SEN", support: "SEN support", ehcp: "EHC plan" } },
  eal: { title: "English as an additional language", values: { yes: "EAL", no: "Not EAL" } },
  gender: { title: "Gender", values: {} },
};

const id = data.interventionId;

load(async () => {
  const [impact, directory] = await Promise.all([
    getJSON(`/v1/interventions/${encodeURIComponent(id)}`),
    getJSON("/v1/directory", { as_of: null }).catch(() => null),
  ]);
  render(impact, directory);
});

function render(impact, directory) {
  const info = impact.intervention;
  const pupils = new Map(impact.pupils.map((p) => [p.pupil_id, p]));
  const objectives = new Map(impact.objectives.map((o) => [o.objective_id, o]));
  const classes = [...new Set(impact.pupils.map((p) => p.class_id).filter(Boolean))];
  const classNames = classNamesFrom(directory);

  setTitle(info.name ?? "Intervention (name erased)");
  const crumbs = [{ label: "Home", href: "/" }];
  if (classes.length === 1) {
    crumbs.push({ label: `Class ${classNames.get(classes[0]) || classes[0]}`, href: classHref(classes[0]) });
  }
  crumbs.push({ label: info.name ?? "Intervention (name erased)" });
  setCrumbs(crumbs);

  const canEnd = !info.ended && !asOf() && directory?.assesses;
  mount("view",
    asOfBanner(),
    details(info, impact, pupils, objectives, classes, classNames),
    canEnd ? endForm(info) : null,
    summary(impact.summary, impact.objectives.length),
    beforeAfter(impact, pupils, objectives),
    perObjective(impact, objectives),
    byGroup(impact.by_group, impact.settings));
}

function classNamesFrom(directory) {
  const names = new Map();
  for (const school of directory?.schools || []) {
    for (const klass of school.classes) names.set(klass.class_id, klass.name);
  }
  return names;
}

function classHref(classId) {
  return `/classes/${encodeURIComponent(classId)}`;
}

function pupilHref(pupilId) {
  return withAsOf(`/pupils/${encodeURIComponent(pupilId)}`);
}

function pupilName(pupil) {
  if (!pupil) return "Unknown pupil";
  return pupil.erased ? "Erased pupil" : pupil.name || pupil.pupil_id;
}

// --- details ---------------------------------------------------------------------------------

function details(info, impact, pupils, objectives, classes, classNames) {
  const status = info.ended
    ? h("span", { class: "pill pill-ended" }, "Ended")
    : h("span", { class: "pill pill-running" }, "Running");
  const dates = info.ended
    ? `${formatDate(info.start_date)} to ${formatDate(info.end_date)}`
    : `Since ${formatDate(info.start_date)}`;
  return h("section", { class: "panel intervention-details", "aria-labelledby": "details-heading" },
    h("div", { class: "details-head" },
      h("h2", { id: "details-heading" }, "About this intervention ", status),
      csvLink(`/v1/interventions/${encodeURIComponent(info.intervention_id)}`, {}, "Download before/after CSV")),
    h("dl", { class: "facts" },
      fact("Lead", info.lead ?? h("span", { class: "muted" }, "Erased")),
      fact("Dates", dates),
      fact("Evidence counted", info.ended
        ? `Judgements up to the end date, ${formatDate(info.evidence_until)}`
        : `Judgements up to today, ${formatDate(info.evidence_until)}`),
      fact("Outcome", info.outcome ? h("span", { class: "outcome" }, info.outcome)
        : h("span", { class: "muted" }, info.ended ? "No outcome recorded." : "Not ended yet.")),
      fact(classes.length === 1 ? "Class" : "Classes", classes.length
        ? h("span", { class: "link-list" }, classes.map((c) => h("a", { href: withAsOf(classHref(c)), class: "chip" },
          classNames.get(c) || c)))
        : h("span", { class: "muted" }, "None (all pupils have left)")),
      fact(`Objectives (${impact.objectives.length})`, h("ul", { class: "plain-list" },
        impact.objectives.map((o) => h("li", {}, h("strong", {}, o.code), " ", o.text,
          o.retired ? h("span", { class: "muted" }, " (retired)") : null)))),
      fact(`Pupils (${impact.pupils.length})`, h("span", { class: "link-list" },
        impact.pupils.map((p) => h("a", { href: pupilHref(p.pupil_id), class: "chip", "data-pupil-id": p.pupil_id },
          pupilName(p)))))));
}

function fact(term, ...description) {
  return h("div", { class: "fact" }, h("dt", {}, term), h("dd", {}, ...description));
}

// --- ending it --------------------------------------------------------------------------------

function today() {
  return new Date().toISOString().slice(0, 10);
}

function endForm(info) {
  const endDate = h("input", { id: "end-date", name: "end_date", type: "date", required: true, min: info.start_date,
    value: today(), "aria-describedby": "end-date-hint end-date-error" });
  const outcome = h("textarea", { id: "end-outcome", name: "outcome", rows: 3, maxlength: 2000,
    "aria-describedby": "end-outcome-error", placeholder: "What happened: who is now secure, what next" });
  const dateError = h("p", { id: "end-date-error", class: "field-error", hidden: true });
  const outcomeError = h("p", { id: "end-outcome-error", class: "field-error", hidden: true });
  const button = h("button", { type: "submit", class: "primary" }, "End intervention");
  const fieldErrors = { end_date: [endDate, dateError], outcome: [outcome, outcomeError] };
  const key = newKey();

  async function submit(event) {
    event.preventDefault();
    for (const [input, message] of Object.values(fieldErrors)) {
      input.removeAttribute("aria-invalid");
      message.hidden = true;
      message.textContent = "";
    }
    button.disabled = true;
    showStatus("Ending the intervention…");
    try {
      const answer = await send("POST", `/v1/interventions/${encodeURIComponent(info.intervention_id)}/end`,
        { end_date: endDate.value, outcome: outcome.value.trim() || null }, { idempotencyKey: key });
      showStatus("Intervention ended. Reloading…", "ok");
      const url = new URL(location.href);
      url.searchParams.set("consistency", String(answer.last_sequence));
      location.assign(url.pathname + url.search);
    } catch (error) {
      button.disabled = false;
      showProblem(error);
      if (error instanceof ApiError) {
        let first = null;
        for (const [field, messages] of Object.entries(error.errors)) {
          const target = fieldErrors[field];
          if (!target) continue;
          const [input, message] = target;
          input.setAttribute("aria-invalid", "true");
          message.textContent = messages.join(" ");
          message.hidden = false;
          first = first || input;
        }
        (first || endDate).focus();
      }
    }
  }

  return h("section", { class: "panel end-intervention", "aria-labelledby": "end-heading" },
    h("h2", { id: "end-heading" }, "End this intervention"),
    h("p", { class: "hint" }, "Ending it fixes the evidence window: judgements after the end date no longer count "
      + "as “after”. This is recorded with your name and cannot be undone."),
    h("form", { id: "end-form", class: "end-form", novalidate: true, onsubmit: submit },
      h("div", { class: "field" }, h("label", { for: "end-date" }, "End date"),
        h("span", { id: "end-date-hint", class: "hint" }, `Not before the start, ${formatDate(info.start_date)}.`),
        endDate, dateError),
      h("div", { class: "field field-wide" }, h("label", { for: "end-outcome" }, "Outcome (optional)"), outcome,
        outcomeError),
      h("div", { class: "field" }, button)));
}

// --- figures ----------------------------------------------------------------------------------

function summary(totals, objectiveCount) {
  const figure = (value, label, extra = null) => h("div", { class: "figure" },
    h("span", { class: "figure-value" }, value, extra), h("span", { class: "figure-label" }, label));
  return h("section", { class: "panel", "aria-labelledby": "summary-heading" },
    h("h2", { id: "summary-heading" }, "Impact at a glance"),
    h("div", { class: "figures", id: "impact-summary" },
      figure(totals.pupils, totals.pupils === 1 ? "pupil" : "pupils",
        totals.small_group ? h("abbr", { class: "small-group", title: "Small group: too few pupils to compare" }, "*")
          : null),
      figure(totals.pairs, `pupil × objective pairs (${objectiveCount} objective${objectiveCount === 1 ? "" : "s"})`),
      figure(`${totals.secure_before} → ${totals.secure_after}`, "secure before → after"),
      h("div", { class: "figure figure-key", "data-moved-to-secure": totals.moved_to_secure },
        h("span", { class: "figure-value" }, `↑ ${totals.moved_to_secure}`),
        h("span", { class: "figure-label" }, `moved to secure (${totals.pupils_moved_to_secure} `
          + `pupil${totals.pupils_moved_to_secure === 1 ? "" : "s"})`)),
      figure(totals.improved, "improved"),
      figure(totals.unchanged, "no change"),
      figure(totals.declined, "went down"),
      figure(totals.pairs - totals.with_both, "without both a before and an after")),
    totals.small_group ? h("p", { class: "hint" }, h("abbr", { class: "small-group", title: "Small group" }, "*"),
      " Small group: too few pupils to draw conclusions.") : null);
}

/** How a pupil moved on an objective: a symbol and words (never colour alone). */
export function movement(row) {
  const { before, after, change } = row;
  if (!before && !after) return { kind: "none", symbol: "–", text: "no evidence" };
  if (!after) return { kind: "none", symbol: "–", text: "not assessed since the start" };
  if (row.moved_to_secure) return { kind: "secure", symbol: "↑", text: "now secure" };
  if (!before) return { kind: "none", symbol: "•", text: after.secure ? "secure, no earlier judgement"
    : "first judgement" };
  if (change > 0) return { kind: "up", symbol: "↑", text: `up ${bands(change)}` };
  if (change < 0) {
    return { kind: "down", symbol: "↓",
      text: before.secure && !after.secure ? "no longer secure" : `down ${bands(-change)}` };
  }
  return { kind: "same", symbol: "→", text: after.secure ? "no change, secure" : "no change" };
}

function bands(n) {
  return `${n} band${n === 1 ? "" : "s"}`;
}

function bandCell(kind, scale, evidence) {
  if (!evidence) {
    return h("td", { class: `band-cell ${kind}`, "data-value": "" }, h("span", { class: "muted" }, "Not assessed"));
  }
  const label = evidence.label || `Value ${evidence.value}`;
  return h("td", { class: `band-cell ${kind}`, "data-value": evidence.value },
    h("span", { class: bandClass(scale, evidence.value), "aria-hidden": "true" }, bandShort(label)), " ",
    h("span", { class: "band-label" }, label),
    h("span", { class: "assessed-on" }, formatDate(evidence.assessed_on)));
}

// A pupil added after the start is measured from the day they joined: say so beside their name.
function joined(impact, pupil) {
  return pupil && pupil.joined_on !== impact.intervention.start_date
    ? h("span", { class: "muted joined-on" }, ` joined ${formatDate(pupil.joined_on)}`) : null;
}

function beforeAfter(impact, pupils, objectives) {
  const byPupil = new Map();
  for (const row of impact.rows) {
    if (!byPupil.has(row.pupil_id)) byPupil.set(row.pupil_id, []);
    byPupil.get(row.pupil_id).push(row);
  }
  const groups = [...byPupil.entries()].map(([pupilId, rows]) => h("tbody", { "data-pupil-id": pupilId },
    rows.map((row, i) => {
      const objective = objectives.get(row.objective_id);
      const scale = objective?.scale || { bands: [] };
      const move = movement(row);
      return h("tr", { class: "impact-row", "data-pupil-id": row.pupil_id, "data-objective-id": row.objective_id,
        "data-change": row.change ?? "", "data-moved-to-secure": String(row.moved_to_secure) },
      i === 0 ? h("th", { scope: "rowgroup", rowspan: rows.length, class: "pupil" },
        h("a", { href: pupilHref(pupilId) }, pupilName(pupils.get(pupilId))), joined(impact, pupils.get(pupilId)))
        : null,
      h("th", { scope: "row", class: "objective", title: objective?.text || "" }, objective?.code || row.objective_id),
      bandCell("before", scale, row.before),
      bandCell("after", scale, row.after),
      h("td", { class: `movement movement-${move.kind}` },
        h("span", { class: "movement-symbol", "aria-hidden": "true" }, move.symbol), " ", move.text));
    })));
  return h("section", { class: "panel", "aria-labelledby": "before-after-heading" },
    h("h2", { id: "before-after-heading" }, "Before and after"),
    h("p", { class: "hint" }, "Before: the latest teacher judgement before the pupil joined (the start, or the day "
      + "they were added). After: the latest from then to the end (or today while it runs). Corrections count; "
      + "withdrawn judgements do not."),
    h("div", { class: "table-scroll" },
      h("table", { class: "before-after", id: "before-after" },
        h("caption", { class: "visually-hidden" }, "Each pupil's band before and after, per objective"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Pupil"), h("th", { scope: "col" }, "Objective"),
          h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "After"),
          h("th", { scope: "col" }, "Movement"))),
        groups)));
}

function perObjective(impact, objectives) {
  const rows = impact.objectives.map((objective) => {
    const mine = impact.rows.filter((r) => r.objective_id === objective.objective_id);
    const count = (test) => mine.filter(test).length;
    const withBoth = mine.filter((r) => r.change !== null);
    return h("tr", { "data-objective-id": objective.objective_id },
      h("th", { scope: "row" }, h("strong", {}, objective.code), " ", h("span", { class: "muted" }, objective.text)),
      num(mine.length),
      num(count((r) => r.before?.secure)),
      num(count((r) => r.after?.secure)),
      h("td", { class: "number moved", "data-moved-to-secure": count((r) => r.moved_to_secure) },
        `↑ ${count((r) => r.moved_to_secure)}`),
      num(withBoth.filter((r) => r.change > 0).length),
      num(withBoth.filter((r) => r.change === 0).length),
      num(withBoth.filter((r) => r.change < 0).length));
  });
  const total = impact.summary;
  return h("section", { class: "panel", "aria-labelledby": "per-objective-heading" },
    h("h2", { id: "per-objective-heading" }, "Moved to secure, per objective"),
    h("div", { class: "table-scroll" },
      h("table", { class: "per-objective" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Objective"), h("th", { scope: "col", class: "number" },
          "Pupils"), h("th", { scope: "col", class: "number" }, "Secure before"),
        h("th", { scope: "col", class: "number" }, "Secure after"),
        h("th", { scope: "col", class: "number" }, "Moved to secure"),
        h("th", { scope: "col", class: "number" }, "Improved"), h("th", { scope: "col", class: "number" }, "No change"),
        h("th", { scope: "col", class: "number" }, "Went down"))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "All objectives"), num(total.pairs),
          num(total.secure_before), num(total.secure_after),
          h("td", { class: "number moved", "data-moved-to-secure": total.moved_to_secure },
            `↑ ${total.moved_to_secure}`),
          num(total.improved), num(total.unchanged), num(total.declined))))));
}

function num(value) {
  return h("td", { class: "number" }, value);
}

function byGroup(groups, settings) {
  const tables = Object.entries(groups).map(([dimension, splits]) => {
    const meta = DIMENSIONS[dimension] || { title: dimension, values: {} };
    return h("div", { class: "group-table", "data-dimension": dimension },
      h("h3", {}, meta.title),
      h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col", class: "number" },
          "Pupils"), h("th", { scope: "col", class: "number" }, "Secure before → after"),
        h("th", { scope: "col", class: "number" }, "Moved to secure"),
        h("th", { scope: "col", class: "number" }, "Improved"))),
        h("tbody", {}, splits.map((split) => h("tr", { "data-group": split.group,
          class: split.pupils === 0 ? "empty-group" : null },
        h("th", { scope: "row" }, meta.values[split.group] || capitalise(split.group)),
        h("td", { class: "number" }, split.pupils, split.small_group && split.pupils > 0
          ? h("abbr", { class: "small-group", title: `Small group: fewer than ${settings.small_group_threshold} `
            + "pupils, too few to compare" }, "*") : null),
        num(split.pupils ? `${split.secure_before} → ${split.secure_after}` : "–"),
        num(split.pupils ? `↑ ${split.moved_to_secure}` : "–"),
        num(split.pupils ? split.improved : "–"))))));
  });
  return h("section", { class: "panel", "aria-labelledby": "by-group-heading" },
    h("h2", { id: "by-group-heading" }, "By pupil group"),
    h("p", { class: "hint" }, "Counts are of pupil × objective pairs. ",
      h("abbr", { class: "small-group", title: "Small group" }, "*"),
      ` marks a group of fewer than ${settings.small_group_threshold} pupils: too few to compare.`),
    h("div", { class: "group-tables" }, tables));
}

function capitalise(text) {
  const words = String(text).replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
