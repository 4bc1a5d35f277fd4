// Class Analysis: the heat map of a class (pupils × objectives), its gaps and suggested groups, and
// starting an intervention from a group. One read (GET /v1/classes/<id>/analysis) paints the page;
// filters re-read it and keep the URL linkable.
import {
  ApiError, asOf, asOfBanner, bandKey, capitalise, csvLink, data, distributionBar, formatDate, getJSON, h, load,
  mount, newKey, send, setCrumbs, setTitle, showProblem, showRefusal, showStatus, withAsOf,
} from "./fathom.js";
import { SOURCE_LABELS, heatMap, percentText, profile, pupilName, taughtNotAssessed } from "./heatmap.js";
import { GROUPS, GROUP_SECTIONS, groupLabel } from "./pupil-groups.js";

const classId = data.classId;
const ANALYSIS = `/v1/classes/${encodeURIComponent(classId)}/analysis`;
const BELOW_TARGET_SHOWN = 8;
const PAST_LIMITS = "Judgements cannot be entered, nor interventions started, from a view of the past.";

const initial = new URLSearchParams(location.search);
const state = {
  subject: initial.get("subject") || "",
  group: initial.get("group") || "",
  source: initial.get("source") || "teacher",
};
const known = { subjects: new Set(), custom: new Set() };
let current = null;  // the analysis on screen
let request = 0;  // the latest read asked for; older answers are dropped
let school = null;  // {name, readable} from the directory, once known
let filtersBuilt = false;

// --- reading ----------------------------------------------------------------------------------

/** The analysis query for the current filters (fathom.js adds as_of and consistency). */
function query(extra = {}) {
  return { subject: state.subject || null, group: state.group || null,
    source: state.source === "teacher" ? null : state.source, ...extra };
}

async function refresh() {
  const mine = ++request;
  const view = document.getElementById("view");
  view.setAttribute("aria-busy", "true");
  view.classList.add("updating");
  try {
    const analysis = await getJSON(ANALYSIS, query());
    if (mine === request) render(analysis);
  } finally {
    if (mine === request) {
      view.classList.remove("updating");
      view.removeAttribute("aria-busy");
    }
  }
}

function yearLabel(year) {
  return year === 0 ? "Reception" : `Year ${year}`;
}

function listText(items) {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/** Today's date (the person's own calendar) as YYYY-MM-DD. */
function today() {
  const now = new Date();
  return [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")]
    .join("-");
}

// --- filters ----------------------------------------------------------------------------------

const subjectSelect = h("select", { id: "filter-subject", name: "subject" });
const groupSelect = h("select", { id: "filter-group", name: "group" });
const sourceSelect = h("select", { id: "filter-source", name: "source" },
  Object.entries(SOURCE_LABELS).map(([value, label]) => h("option", { value }, label)));

function buildFilters() {
  filtersBuilt = true;
  const changed = () => {
    state.subject = subjectSelect.value;
    state.group = groupSelect.value;
    state.source = sourceSelect.value;
    const params = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries({ subject: state.subject, group: state.group,
      source: state.source === "teacher" ? "" : state.source })) {
      if (value) params.set(key, value); else params.delete(key);
    }
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? `?${q}` : ""));
    refresh().catch(showProblem);
  };
  for (const select of [subjectSelect, groupSelect, sourceSelect]) select.addEventListener("change", changed);
  mount("filters", h("form", { class: "toolbar filter-bar", "aria-label": "Filters", onsubmit: (e) => e.preventDefault() },
    h("label", { for: "filter-subject" }, "Subject", subjectSelect),
    h("label", { for: "filter-group" }, "Pupil group", groupSelect),
    h("label", { for: "filter-source" }, "Judgements by", sourceSelect)));
  // The "as of" picker reloads the page: keep the filters on it.
  document.querySelector("form.as-of")?.addEventListener("submit", (event) => {
    for (const [key, value] of Object.entries(query())) {
      if (value) event.target.append(h("input", { type: "hidden", name: key, value }));
    }
  });
}

function fillFilters() {
  const subjects = [...new Set([...known.subjects, state.subject].filter(Boolean))].sort();
  mount(subjectSelect, h("option", { value: "" }, "All subjects"),
    subjects.map((subject) => h("option", { value: subject }, capitalise(subject))));
  subjectSelect.value = state.subject;
  const custom = [...new Set([...known.custom, state.group.startsWith("custom:") ? state.group.slice(7) : null]
    .filter(Boolean))].sort();
  const fixed = new Set(GROUPS.map(([group]) => group));
  mount(groupSelect, h("option", { value: "" }, "All pupils"),
    GROUP_SECTIONS.map(([label, options]) => h("optgroup", { label },
      options.map(([value, text]) => h("option", { value }, text)))),
    custom.length ? h("optgroup", { label: "Trust groups" },
      custom.map((name) => h("option", { value: `custom:${name}` }, capitalise(name)))) : null,
    state.group && !fixed.has(state.group) && !state.group.startsWith("custom:")
      ? h("option", { value: state.group }, state.group) : null);
  groupSelect.value = state.group;
  sourceSelect.value = state.source;
}

// --- page -------------------------------------------------------------------------------------

function crumbs(klass) {
  const items = [{ label: "Home", href: "/" }];
  if (school) {
    items.push({ label: school.name, href: school.readable
      ? `/schools/${encodeURIComponent(klass.school_id)}?year_group=${klass.year_group}` : null });
  }
  items.push({ label: `Class ${klass.name}` });
  setCrumbs(items);
  // A school one may not open is plain text, not the current page.
  if (school && !school.readable) document.querySelector("#crumbs li:nth-child(2) span")?.removeAttribute("aria-current");
}

function head(klass) {
  const meta = [yearLabel(klass.year_group), klass.academic_year, school?.name].filter(Boolean).join(" · ");
  mount("class-head", h("p", { class: "class-meta" }, meta),
    asOf() ? null : h("a", { class: "button primary", id: "enter-judgements",
      href: `/classes/${encodeURIComponent(klass.id)}/entry` }, "Enter judgements"));
}

function stats(view) {
  const pupils = view.pupils.length;
  const cells = pupils * view.objectives.length;
  const assessed = view.objectives.reduce((sum, o) => sum + o.assessed, 0);
  const tile = (label, value, note) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value,
    note ? h("span", { class: "stat-note" }, note) : null));
  return h("dl", { class: "stats" },
    tile("Pupils", String(pupils), state.group ? groupLabel(state.group) : null),
    tile("Objectives", String(view.objectives.length), state.subject ? capitalise(state.subject) : null),
    tile("Assessed", cells ? `${Math.round((assessed * 100) / cells)}%` : "–", "of pupil × objective cells"),
    tile("Below target", String(view.gaps.below_target.length), `under ${view.gaps.secure_target_percent}% secure`),
    tile("Taught, not assessed", String(view.objectives.filter(taughtNotAssessed).length), "objectives"));
}

function keys(view) {
  const scales = new Map(view.objectives.map((o) => [o.scale.scale_id, o.scale]));
  return h("div", { class: "keys" }, [...scales.values()].map((scale) => bandKey(scale)),
    h("ul", { class: "band-key other-key", "aria-label": "Other marks" },
      h("li", {}, h("span", { class: "key-mark key-tna", "aria-hidden": "true" }, "!"),
        " Taught, not yet assessed for every pupil"),
      h("li", {}, h("span", { class: "key-mark key-awaiting", "aria-hidden": "true" }),
        " Awaiting assessment"),
      h("li", {}, h("span", { class: "key-mark key-empty", "aria-hidden": "true" }), " Blank: not assessed"),
      h("li", {}, h("span", { class: "small-group", "aria-hidden": "true" }, "*"),
        ` Fewer than ${view.settings.small_group_threshold} pupils assessed`)));
}

function heatPanel(view, map, scroller) {
  return h("section", { class: "panel heat-panel", "aria-labelledby": "heat-map-title" },
    h("div", { class: "panel-head" },
      h("h2", { id: "heat-map-title" }, "Heat map"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "heat_map" }), "Heat map CSV"),
        csvLink(ANALYSIS, query({ table: "objectives" }), "Objectives CSV"))),
    h("p", { id: "heat-map-help", class: "hint" }, "Each pupil's current judgement on each objective, with how the "
      + "class stands above each objective. Hover over or focus a cell for its details. The grid is one tab stop: the "
      + "arrow keys move from cell to cell, and left to the pupils' names (Enter opens a profile)."),
    keys(view),
    view.objectives.length ? scroller : h("p", { class: "empty" }, "No objectives to show for these filters."),
    map.tooltip, map.descriptions);
}

function objectiveLabel(objective) {
  return [h("span", { class: "code" }, objective.code), " ", h("span", { class: "objective-text" }, objective.text)];
}

function gapsPanel(view) {
  const byId = new Map(view.objectives.map((o) => [o.objective_id, o]));
  const taught = view.objectives.filter(taughtNotAssessed);
  const below = [...view.gaps.below_target].sort((a, b) => a.percent_secure - b.percent_secure
    || a.code.localeCompare(b.code));
  const target = view.gaps.secure_target_percent;

  const taughtPart = taught.length ? h("div", { class: "table-scroll" }, h("table", { class: "gaps-table" },
    h("caption", { class: "visually-hidden" }, "Objectives taught but not yet assessed for every pupil"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Objective"), h("th", { scope: "col" }, "Taught"),
      h("th", { scope: "col", class: "number nowrap" }, "Not assessed"))),
    h("tbody", {}, taught.map((o) => h("tr", { "data-objective-id": o.objective_id },
      h("th", { scope: "row" }, objectiveLabel(o)),
      h("td", { class: "nowrap" }, o.taught_dates.map(formatDate).join(", ")),
      h("td", { class: "number nowrap" }, `${o.not_assessed} of ${o.assessed + o.not_assessed}`,
        o.assessed === 0 ? h("span", { class: "muted" }, " (none yet)") : null))))))
    : h("p", { class: "empty" }, "None: every objective taught has been assessed for every pupil.");

  const rows = below.map((gap, index) => {
    const objective = byId.get(gap.objective_id) || gap;
    return h("tr", { "data-objective-id": gap.objective_id, class: index >= BELOW_TARGET_SHOWN ? "more" : null,
      hidden: index >= BELOW_TARGET_SHOWN },
    h("th", { scope: "row" }, objectiveLabel(objective)),
    h("td", { class: "number" }, `${gap.secure} of ${gap.assessed}`),
    h("td", { class: "gap-bar" }, objective.counts ? distributionBar(objective.scale, objective.counts, {
      assessed: gap.assessed, percentSecure: percentText(gap.percent_secure), small: gap.small_group })
      : `${percentText(gap.percent_secure)}%`));
  });
  let more = null;
  if (below.length > BELOW_TARGET_SHOWN) {
    more = h("button", { type: "button", class: "show-more", "aria-expanded": "false" },
      `Show all ${below.length}`);
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      for (const row of rows.slice(BELOW_TARGET_SHOWN)) row.hidden = !open;
      more.setAttribute("aria-expanded", String(open));
      more.textContent = open ? `Show the lowest ${BELOW_TARGET_SHOWN}` : `Show all ${below.length}`;
    });
  }
  const belowPart = below.length ? [h("div", { class: "table-scroll" }, h("table", { class: "gaps-table" },
    h("caption", { class: "visually-hidden" }, `Objectives below ${target}% secure, lowest first`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Objective"), h("th", { scope: "col", class: "number" },
      "Secure"), h("th", { scope: "col" }, "Pupils per band, % secure"))),
    h("tbody", {}, rows))), more]
    : h("p", { class: "empty" }, `None: every objective assessed is at least ${target}% secure.`);

  return h("section", { class: "panel gaps-panel", "aria-labelledby": "gaps-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "gaps-title" }, "Gaps"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "gaps" }), "Gaps CSV"))),
    h("div", { class: "gaps-grid" },
      h("div", { class: "gap-list", id: "taught-not-assessed" },
        h("h3", {}, h("span", { class: "key-mark key-tna", "aria-hidden": "true" }, "!"), " Taught, not yet assessed",
          h("span", { class: "count" }, String(taught.length))),
        h("p", { class: "hint" }, "Coverage is not assessment: these were taught, but some pupils have no judgement yet."),
        taughtPart),
      h("div", { class: "gap-list", id: "below-target" },
        h("h3", {}, `Below target (${target}% secure)`, h("span", { class: "count" }, String(below.length))),
        h("p", { class: "hint" }, "Assessed objectives where fewer pupils are secure than the trust's target, lowest "
          + "first."),
        belowPart)));
}

const OBJECTIVES_SHOWN = 4;

/** A group's objectives; beyond the first few, the rest fold away. */
function objectiveList(list) {
  const item = (objective) => h("li", {}, objectiveLabel(objective));
  const shown = list.length > OBJECTIVES_SHOWN + 1 ? list.slice(0, OBJECTIVES_SHOWN) : list;
  const rest = list.slice(shown.length);
  return [h("ul", { class: "group-objectives", "aria-label": "Objectives" }, shown.map(item)),
    rest.length ? h("details", { class: "more-objectives" }, h("summary", {}, `${rest.length} more objectives`),
      h("ul", { class: "group-objectives" }, rest.map(item))) : null];
}

function groupsPanel(view) {
  const pupils = new Map(view.pupils.map((p) => [p.pupil_id, p]));
  const objectives = new Map(view.objectives.map((o) => [o.objective_id, o]));
  const names = (ids) => ids.map((id) => (pupils.has(id) ? pupilName(pupils.get(id)) : id));
  const running = view.interventions.length ? h("div", { class: "running" },
    h("h3", {}, "Interventions with pupils shown here"),
    h("ul", {}, view.interventions.map((iv) => h("li", {},
      h("a", { href: withAsOf(`/interventions/${encodeURIComponent(iv.intervention_id)}`) }, iv.name ?? "(name erased)"),
      h("span", { class: "muted" }, ` · ${iv.lead ?? "lead erased"} · from ${formatDate(iv.start_date)} · `
        + plural(iv.pupil_ids.length, "pupil")))))) : null;
  const cards = view.suggested_groups.map((group, index) => {
    const actions = h("div", { class: "group-actions" });
    const card = h("article", { class: "group-card", "aria-labelledby": `group-${index}-title`,
      "data-group-index": index },
    h("h3", { id: `group-${index}-title` }, `Group ${index + 1}`,
      h("span", { class: "muted" }, ` · ${plural(group.size, "pupil")}`)),
    objectiveList(group.objectives.map((brief) => objectives.get(brief.objective_id) || { ...brief, text: "" })),
    h("p", { class: "group-pupils" }, h("span", { class: "label" }, "Pupils: "), names(group.pupil_ids).join(", ")),
    group.also_consider.length ? h("p", { class: "group-also" }, h("span", { class: "label" }, "Also consider: "),
      names(group.also_consider).join(", ")) : null,
    actions);
    if (asOf()) {
      actions.append(h("button", { type: "button", disabled: true }, "Start intervention"),
        h("span", { class: "hint" }, " Back to today to start one."));
    } else {
      const button = h("button", { type: "button", class: "start-intervention" }, "Start intervention");
      button.addEventListener("click", () => openStartForm(group, actions, button));
      actions.append(button);
    }
    return card;
  });
  return h("section", { class: "panel groups-panel", "aria-labelledby": "groups-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "groups-title" }, "Suggested groups"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "suggested_groups" }), "Suggested groups CSV"))),
    h("p", { class: "hint" }, "Pupils not yet secure on the same below-target objectives. Start an intervention to "
      + "work with a group, then follow its impact."),
    running,
    cards.length ? h("div", { class: "group-cards" }, cards)
      : h("p", { class: "empty" }, "No groups to suggest: no two pupils share an objective below target."));
}

// --- starting an intervention -----------------------------------------------------------------

function chooser(legend, ids, labelOf) {
  const included = new Set(ids);
  const items = new Map();
  const count = h("span", { class: "muted" });
  const list = h("ul", { class: "chooser" });
  const error = h("p", { class: "field-error", hidden: true });
  const refreshButtons = () => {
    count.textContent = ` (${included.size} of ${ids.length})`;
    for (const [id, item] of items) item.button.disabled = included.has(id) && included.size === 1;
  };
  for (const id of ids) {
    const label = labelOf(id);
    const button = h("button", { type: "button", class: "toggle", "aria-label": `Remove ${label.text}` }, "Remove");
    const line = h("li", { "data-id": id }, h("span", { class: "chosen" }, label.node), button);
    button.addEventListener("click", () => {
      const keep = !included.has(id);
      if (keep) included.add(id); else included.delete(id);
      line.classList.toggle("removed", !keep);
      button.textContent = keep ? "Remove" : "Add back";
      button.setAttribute("aria-label", `${keep ? "Remove" : "Add back"} ${label.text}`);
      refreshButtons();
    });
    items.set(id, { line, button });
    list.append(line);
  }
  refreshButtons();
  const fieldset = h("fieldset", { class: "chooser-set" }, h("legend", {}, legend, count), list, error);
  return {
    fieldset, error,
    chosen: () => ids.filter((id) => included.has(id)),
    line: (id) => items.get(id)?.line,
  };
}

function openStartForm(group, actions, button) {
  const pupils = new Map(current.pupils.map((p) => [p.pupil_id, p]));
  const objectives = new Map(current.objectives.map((o) => [o.objective_id, o]));
  const draft = group.start_intervention;
  const codes = draft.objective_ids.map((id) => objectives.get(id)?.code || id);
  const subjects = [...new Set(draft.objective_ids.map((id) => objectives.get(id)?.subject).filter(Boolean))];
  const suggestedName = `${capitalise(listText(subjects)) || "Objective"} catch-up: ${codes.join(", ")}`.slice(0, 200);
  const lead = document.querySelector(".who-name")?.textContent.trim() || "";

  const field = (id, label, input) => {
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    return { node: h("div", { class: "field" }, h("label", { for: id }, label), input, error), input, error };
  };
  const fields = {
    name: field("iv-name", "Name", h("input", { id: "iv-name", name: "name", maxlength: 200, value: suggestedName,
      autocomplete: "off" })),
    lead: field("iv-lead", "Lead", h("input", { id: "iv-lead", name: "lead", maxlength: 200, value: lead,
      autocomplete: "name" })),
    start_date: field("iv-start", "Start date", h("input", { id: "iv-start", name: "start_date", type: "date",
      value: today(), max: today() })),
  };
  const objectivePick = chooser("Objectives", draft.objective_ids, (id) => {
    const objective = objectives.get(id);
    return { text: objective?.code || id, node: objective ? objectiveLabel(objective) : id };
  });
  const pupilPick = chooser("Pupils", draft.pupil_ids, (id) => {
    const name = pupils.has(id) ? pupilName(pupils.get(id)) : id;
    return { text: name, node: name };
  });
  const problem = h("div", { class: "form-problem", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Start intervention");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h("form", { class: "start-form", novalidate: true },
    h("h2", { id: "iv-title" }, "Start an intervention"),
    h("p", { class: "hint" }, "For the pupils not yet secure on these objectives. Remove anyone or anything that "
      + "should not be part of it."),
    problem,
    h("div", { class: "field-row" }, fields.name.node),
    h("div", { class: "field-row two" }, fields.lead.node, fields.start_date.node),
    objectivePick.fieldset, pupilPick.fieldset,
    h("div", { class: "form-actions" }, cancel, submit));
  const dialog = h("dialog", { class: "start-dialog", "aria-labelledby": "iv-title" }, form);
  let started = false;
  let key = null;
  let lastBody = null;

  const clearErrors = () => {
    problem.hidden = true;
    problem.replaceChildren();
    for (const { input, error } of Object.values(fields)) {
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const pick of [objectivePick, pupilPick]) {
      pick.error.hidden = true;
      pick.fieldset.querySelectorAll("li .field-error").forEach((e) => e.remove());
      pick.fieldset.querySelectorAll("li.invalid").forEach((e) => e.classList.remove("invalid"));
    }
  };

  const showErrors = (error, body) => {
    if (!(error instanceof ApiError)) {
      problem.replaceChildren(h("strong", {}, "Could not reach Fathom."), " Check the connection and try again.");
      problem.hidden = false;
      problem.focus();
      return;
    }
    const others = [];
    let first = null;
    for (const [name, messages] of Object.entries(error.errors || {})) {
      const text = messages.join(" ");
      const item = name.match(/^(pupil_ids|objective_ids)\.(\d+)$/);
      if (fields[name]) {
        const { input, error: slot } = fields[name];
        slot.textContent = text;
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
        first ||= input;
      } else if (item) {
        const pick = item[1] === "pupil_ids" ? pupilPick : objectivePick;
        const line = pick.line(body[item[1]][Number(item[2])]);
        if (line) {
          line.classList.add("invalid");
          line.append(h("p", { class: "field-error" }, text));
          first ||= line.querySelector("button");
        } else {
          others.push([name, text]);
        }
      } else if (name === "pupil_ids" || name === "objective_ids") {
        const pick = name === "pupil_ids" ? pupilPick : objectivePick;
        pick.error.textContent = text;
        pick.error.hidden = false;
      } else {
        others.push([name, text]);
      }
    }
    mount(problem, h("strong", {}, error.title), " ", error.detail || "",
      Object.keys(error.errors || {}).length ? " See the messages next to the fields." : "",
      others.length ? h("ul", {}, others.map(([name, text]) => h("li", {}, h("code", {}, name), ": ", text))) : null);
    problem.hidden = false;
    (first || problem).focus();
  };

  problem.tabIndex = -1;
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = {
      name: fields.name.input.value.trim(), lead: fields.lead.input.value.trim(),
      start_date: fields.start_date.input.value, pupil_ids: pupilPick.chosen(), objective_ids: objectivePick.chosen(),
    };
    const json = JSON.stringify(body);
    if (json !== lastBody) { key = newKey(); lastBody = json; }  // the same request retried keeps its key
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const result = await send("POST", "/v1/interventions", body, { idempotencyKey: key });
      started = true;
      dialog.close();
      const href = `/interventions/${encodeURIComponent(result.id)}`
        + (result.last_sequence ? `?consistency=${result.last_sequence}` : "");
      const link = h("a", { href, class: "started-link" }, `Open “${body.name}”`);
      mount(actions, h("p", { class: "started", role: "status" }, h("span", { class: "tick", "aria-hidden": "true" },
        "✓"), " Intervention started with ", plural(body.pupil_ids.length, "pupil"), ". ", link));
      showStatus(`Intervention “${body.name}” started.`, "ok");
      link.focus();
    } catch (error) {
      showErrors(error, body);
    } finally {
      submit.disabled = false;
      submit.textContent = "Start intervention";
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (!started) button.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  fields.name.input.focus();
}

// --- rendering --------------------------------------------------------------------------------

function render(view) {
  current = view;
  for (const objective of view.objectives) known.subjects.add(objective.subject);
  for (const pupil of view.pupils) for (const name of pupil.groups?.custom || []) known.custom.add(name);
  if (!filtersBuilt) buildFilters();
  fillFilters();
  const klass = view.class;
  setTitle(`Class ${klass.name}`);
  crumbs(klass);
  head(klass);
  const map = heatMap(view);
  const scroller = h("div", { class: "table-scroll heat-scroll" }, map.table);
  mount("view", asOfBanner(PAST_LIMITS), stats(view), heatPanel(view, map, scroller), gapsPanel(view),
    groupsPanel(view));
  if (view.objectives.length) map.layout(scroller);
}

function refuse(error) {
  document.getElementById("class-controls").hidden = true;
  const mine = error.status === 403;
  setTitle(mine ? "Not your class" : "Class not found");
  setCrumbs([{ label: "Home", href: "/" }, { label: mine ? "Class" : "Class not found" }]);
  showRefusal(error, { back: "Back to your classes",
    heading: mine ? "This class is not one of yours" : "There is no such class",
    explanation: mine ? "You can see the analysis of the classes you teach, or of the schools you lead. Ask a school "
      + "leader if you should have access to this class."
      : "No class with this id exists in your trust. It may have been mistyped, or the link is out of date." });
}

load(async () => {
  const directory = getJSON("/v1/directory", { as_of: null, consistency: null }).catch(() => null);
  try {
    await refresh();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      refuse(error);
      return;
    }
    if (error instanceof ApiError && error.status === 422 && (state.subject || state.group || state.source !== "teacher")) {
      showProblem(error);
      mount("view", h("p", {}, "These filters cannot be shown. ",
        h("a", { href: withAsOf(location.pathname) }, "Show the whole class")));
      return;
    }
    throw error;
  }
  if (state.subject && current.pupils.length) {
    // Opened on one subject: learn the others (for the subject filter) from a pupil's profile, which the
    // heat map's notes read anyway.
    profile(current.pupils[0].pupil_id).then((answer) => {
      for (const objective of answer.objectives || []) known.subjects.add(objective.subject);
      fillFilters();
    }, () => {});
  }
  const answer = await directory;
  const entry = answer?.schools?.find((s) => s.school_id === current.class.school_id);
  if (entry) {
    school = { name: entry.name, readable: entry.readable };
    crumbs(current.class);
    head(current.class);
  }
});
