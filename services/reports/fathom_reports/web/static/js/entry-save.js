// Grid entry's saving: one Save sends every pending value as one batch; the API's per-item errors go back
// onto their cells. Also marking objectives as taught.
import {
  ApiError, bandClass, bandShort, formatDate, h, mount, newKey, send, showProblem, showStatus,
} from "./fathom.js";
import { fillFilterOptions, syncFilters } from "./entry-filters.js";
import { paintAll, paintKeys, renderCounter, renderGrid, renderToolbar, setActive } from "./entry-grid.js";
import {
  bandOf, batchKeys, cellKey, classId, fetchAnalysis, pupilName, splitKey, state, strandOf, takeAnalysis, ui,
} from "./entry-model.js";

export async function save() {
  if (state.saving || !state.pending.size) return;
  if (!state.date) {
    showStatus("Choose the date the work was assessed on.", "error");
    ui.date.focus();
    return;
  }
  const keys = batchKeys();
  const judgements = keys.map((key) => {
    const [pupilId, objectiveId] = splitKey(key);
    return { pupil_id: pupilId, objective_id: objectiveId, value: state.pending.get(key), assessed_on: state.date,
      source: state.source };
  });
  const body = { judgements };
  const text = JSON.stringify(body);
  // The same batch again (its answer was lost) keeps its key, so the API records it at most once.
  const idempotencyKey = state.attempt && state.attempt.body === text ? state.attempt.key : newKey();
  state.attempt = { body: text, key: idempotencyKey };
  state.saving = true;
  renderCounter();
  showStatus(`Saving ${judgements.length} judgement${judgements.length === 1 ? "" : "s"}…`);
  let answer;
  try {
    answer = await send("POST", "/v1/judgements", body, { idempotencyKey });
  } catch (error) {
    state.saving = false;
    renderCounter();
    failed(error, keys);
    return;
  }
  state.attempt = null;
  const saved = judgements.map((j) => ({ ...j }));
  state.pending.clear();
  state.errors.clear();
  state.undo = [];
  state.saving = false;
  renderProblems();
  showStatus(`Saved ${saved.length} judgement${saved.length === 1 ? "" : "s"}.`, "ok");
  showSaved(saved, answer);
  document.getElementById("entry-saved").focus();  // announced; Tab reaches the link to the Class Analysis
  try {  // the grid's "current" values, as the read model has them once it has applied this save
    takeAnalysis(await fetchAnalysis(answer.last_sequence));
  } catch (error) {
    for (const j of saved) {  // the read model is slow: show what we know was recorded
      const objective = state.objectives.get(j.objective_id);
      const band = objective && bandOf(objective, j.value);
      if (band) state.current.set(cellKey(j.pupil_id, j.objective_id), { ...band, assessed_on: j.assessed_on });
    }
  }
  syncFilters();
  renderGrid();
}

function failed(error, keys) {
  if (!(error instanceof ApiError)) {  // the network: nothing came back, so nothing may have been recorded
    showStatus("Not saved: the connection failed before the server answered. Your changes are kept; press Save "
      + "again to retry (the same batch is never recorded twice).", "error");
    return;
  }
  if (error.status >= 500) {
    showStatus(`Not saved (${error.title}): ${error.detail || "the server could not record it now"}. Your changes are `
      + "kept; press Save again to retry (the same batch is never recorded twice).", "error");
    return;
  }
  state.attempt = null;  // the API refused this batch: the next Save is a new request
  const general = {};
  state.errors.clear();
  for (const [field, messages] of Object.entries(error.errors || {})) {
    const match = /^judgements\.(\d+)\.(\w+)$/.exec(field);
    const key = match ? keys[Number(match[1])] : null;
    if (key) {
      const list = state.errors.get(key) || [];
      const fieldName = FIELD_NAMES[match[2]] || match[2];
      for (const message of messages) list.push(`${fieldName}: ${message}`);
      state.errors.set(key, list);
    } else {
      general[field] = messages;
    }
  }
  state.refusal = error.detail || "Nothing was recorded.";
  paintAll();
  renderProblems();
  const n = state.errors.size;
  if (n && !Object.keys(general).length) {
    showStatus(`Nothing was saved: ${n} change${n === 1 ? "" : "s"} need${n === 1 ? "s" : ""} fixing (marked in the `
      + "grid). All your changes are kept.", "error");
  } else {
    showProblem({ ...error, title: error.title, detail: `${error.detail || ""} All your changes are kept.`.trim(),
      errors: general });
  }
}

const FIELD_NAMES = { value: "Band", assessed_on: "Date", pupil_id: "Pupil", objective_id: "Objective",
  source: "Source", note: "Note" };

/** Drop the errors about ``fieldName`` (e.g. "Date" once the date is changed): the next Save judges it again. */
export function forgetErrors(fieldName) {
  const changed = [];
  for (const [key, messages] of [...state.errors.entries()]) {
    const left = messages.filter((m) => !m.startsWith(`${fieldName}: `));
    if (left.length === messages.length) continue;
    if (left.length) state.errors.set(key, left);
    else state.errors.delete(key);
    changed.push(key);
  }
  if (changed.length) {
    paintKeys(changed);
    renderProblems();
  }
}

/** The list above the grid of the cells the API refused, each a button to go to its cell. */
export function renderProblems() {
  if (!state.errors.size) {
    ui.problems.hidden = true;
    ui.problems.replaceChildren();
    return;
  }
  ui.problems.hidden = false;
  const pupils = new Map(state.pupils.map((p) => [p.pupil_id, p]));
  const keys = batchKeys().filter((key) => state.errors.has(key));
  const n = keys.length;
  mount(ui.problems,
    h("h2", {}, `${n} change${n === 1 ? "" : "s"} could not be saved`),
    h("p", {}, `${state.refusal || "Nothing was recorded."} Fix the marked cells and press Save again.`),
    h("ul", { class: "problem-list" }, keys.map((key) => {
      const [pupilId, objectiveId] = splitKey(key);
      const objective = state.objectives.get(objectiveId);
      const pupil = pupils.get(pupilId);
      return h("li", { "data-pupil-id": pupilId, "data-objective-id": objectiveId },
        h("button", { type: "button", class: "link", onclick: () => goToCell(pupilId, objectiveId) },
          `${pupil ? pupilName(pupil) : pupilId} × ${objective ? objective.code : objectiveId}`),
        ": ", state.errors.get(key).join(" "));
    })));
}

function goToCell(pupilId, objectiveId) {
  const objective = state.objectives.get(objectiveId);
  if (objective && !state.columns.some((o) => o.objective_id === objectiveId)) {
    state.year = objective.year_group;
    state.subject = objective.subject;
    state.strand = strandOf(objective);
    fillFilterOptions();
    renderGrid();
  }
  const r = state.pupils.findIndex((p) => p.pupil_id === pupilId);
  const c = state.columns.findIndex((o) => o.objective_id === objectiveId);
  if (r >= 0 && c >= 0) setActive(r, c);
}

function showSaved(saved, answer) {
  const pupils = new Map(state.pupils.map((p) => [p.pupil_id, p]));
  const href = `/classes/${encodeURIComponent(classId)}?consistency=${encodeURIComponent(answer.last_sequence)}`;
  ui.result.hidden = false;
  mount(ui.result, h("div", { class: "panel saved", id: "entry-saved", tabindex: -1 },
    h("h2", {}, `Saved ${saved.length} judgement${saved.length === 1 ? "" : "s"}`),
    h("p", {}, `Assessed on ${formatDate(saved[0].assessed_on)}, source ${saved[0].source}; recorded as events up to `
      + `sequence ${answer.last_sequence}. `,
    h("a", { id: "entry-analysis-link", class: "button primary", href }, "See them in the Class Analysis")),
    h("div", { class: "table-scroll saved-scroll" }, h("table", { class: "saved-table" },
      h("caption", { class: "visually-hidden" }, "What was saved"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Pupil"), h("th", { scope: "col" }, "Objective"),
        h("th", { scope: "col" }, "Band"))),
      h("tbody", {}, saved.map((j) => {
        const objective = state.objectives.get(j.objective_id);
        const band = objective && bandOf(objective, j.value);
        const pupil = pupils.get(j.pupil_id);
        return h("tr", { "data-pupil-id": j.pupil_id, "data-objective-id": j.objective_id, "data-value": j.value },
          h("td", {}, pupil ? pupilName(pupil) : j.pupil_id),
          h("td", {}, objective ? objective.code : j.objective_id, objective
            ? h("span", { class: "muted" }, ` ${objective.text}`) : null),
          h("td", {}, h("span", { class: objective ? bandClass(objective.scale, j.value) : "band" },
            band ? bandShort(band.label) : j.value), " ", band ? band.label : ""));
      }))))));
}

// --- objectives taught -----------------------------------------------------------------------

export async function markTaught() {
  const ids = state.columns.filter((o) => state.cols.has(o.objective_id)).map((o) => o.objective_id);
  if (!ids.length) {
    showStatus("Tick the objectives' header checkboxes first.", "error");
    return;
  }
  if (!state.date) {
    showStatus("Choose the date they were taught on.", "error");
    return;
  }
  ui.taught.disabled = true;
  const codes = ids.map((id) => state.objectives.get(id).code);
  let answer;
  try {
    answer = await send("POST", "/v1/objectives-taught", { class_id: classId, objective_ids: ids, taught_on: state.date },
      { idempotencyKey: newKey() });
  } catch (error) {
    renderToolbar();
    if (error instanceof ApiError) {
      const errors = {};
      for (const [field, messages] of Object.entries(error.errors || {})) {
        const match = /^objective_ids\.(\d+)$/.exec(field);
        errors[match ? `${state.objectives.get(ids[Number(match[1])])?.code || field}` : field] = messages;
      }
      showProblem({ ...error, title: error.title, detail: `${error.detail || ""} Nothing was marked as taught.`.trim(),
        errors });
    } else {
      showStatus("Not marked: the connection failed. Press “Mark as taught” again to retry.", "error");
    }
    return;
  }
  ui.result.hidden = false;
  mount(ui.result, h("div", { class: "panel taught-result", id: "entry-taught-result" },
    h("h2", {}, `Marked ${ids.length} objective${ids.length === 1 ? "" : "s"} as taught`),
    h("p", {}, `${codes.join(", ")} taught to ${state.analysis.class.name} on ${formatDate(state.date)}.`)));
  showStatus(`Marked ${codes.join(", ")} as taught on ${formatDate(state.date)}.`, "ok");
  state.cols.clear();
  try {
    takeAnalysis(await fetchAnalysis(answer.last_sequence));
  } catch (error) {
    showProblem(error);
  }
  syncFilters();
  renderGrid();
}
