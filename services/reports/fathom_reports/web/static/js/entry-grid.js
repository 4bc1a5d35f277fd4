// Grid entry's drawing: the grid table, each cell's current and pending band, the key, the toolbar's counts,
// and which cell is active (the one that takes the keyboard).
import { bandClass, bandKey, bandShort, formatDate, h, mount } from "./fathom.js";
import {
  bandOf, cellKey, fillTargets, inSelection, pupilName, splitKey, state, ui, visibleObjectives,
} from "./entry-model.js";

// What the grid's keys, clicks and checkboxes do: the keyboard (entry-keys.js) and the selection (entry-edits.js)
// repaint the grid, so the grid cannot import them without an import loop. The page hands them over once at
// start-up (entry.js calls connectGrid before the first renderGrid).
let onGridKey, onGridClick, onGridFocus, clickBox, selectAllRows;

export function connectGrid(actions) {
  ({ onGridKey, onGridClick, onGridFocus, clickBox, selectAllRows } = actions);
}

// --- the grid --------------------------------------------------------------------------------

export function renderGrid() {
  state.columns = visibleObjectives();
  for (const id of [...state.cols]) if (!state.columns.some((o) => o.objective_id === id)) state.cols.delete(id);
  const columns = state.columns;
  ui.cells = [];
  ui.rowBoxes = [];
  ui.colBoxes = [];
  if (!columns.length || !state.pupils.length) {
    mount(ui.gridHolder, h("p", { class: "empty" }, !state.pupils.length ? "This class has no pupils."
      : "No objectives in this strand."));
    renderKey();
    renderToolbar();
    return;
  }
  ui.corner = h("input", { type: "checkbox", id: "entry-select-all", class: "corner-select", tabindex: -1,
    "data-r": -1, "data-c": -1, "aria-label": "Select every pupil", onclick: () => selectAllRows(ui.corner.checked) });
  const head = h("tr", {}, h("th", { scope: "col", class: "pupil-head" },
    h("span", { class: "corner" }, ui.corner, h("span", {}, "Pupil"))),
  columns.map((objective, c) => {
    const box = h("input", { type: "checkbox", class: "col-select", id: `col-${c}`, tabindex: -1, "data-r": -1,
      "data-c": c, "data-objective-id": objective.objective_id, checked: state.cols.has(objective.objective_id),
      onclick: (event) => clickBox("column", event, c) });
    ui.colBoxes.push(box);
    const taught = objective.taught_dates?.length ? objective.taught_dates[objective.taught_dates.length - 1] : null;
    return h("th", { scope: "col", class: "entry-col", "data-objective-id": objective.objective_id,
      "data-taught": objective.taught ? "true" : "false", title: objective.text },
    h("label", { for: box.id, class: "col-label" }, box, h("span", { class: "code" }, objective.code)),
    h("span", { class: "col-text" }, objective.text),
    h("span", { class: ["taught-flag", taught ? "is-taught" : "not-taught"] },
      taught ? `✓ Taught ${formatDate(taught)}` : "Not yet taught"),
    h("span", { class: "col-stats" }, objective.percent_secure === null ? `${objective.assessed} assessed`
      : `${objective.percent_secure}% secure · ${objective.not_assessed} not assessed`));
  }));
  const body = state.pupils.map((pupil, r) => {
    const box = h("input", { type: "checkbox", class: "row-select", id: `row-${r}`, tabindex: -1, "data-r": r,
      "data-c": -1, "data-pupil-id": pupil.pupil_id, checked: state.rows.has(pupil.pupil_id),
      onclick: (event) => clickBox("row", event, r) });
    ui.rowBoxes.push(box);
    const cells = columns.map((objective, c) => h("td", { role: "gridcell", class: "entry-cell", tabindex: -1,
      "data-r": r, "data-c": c, "data-pupil-id": pupil.pupil_id, "data-objective-id": objective.objective_id }));
    ui.cells.push(cells);
    return h("tr", { "data-pupil-id": pupil.pupil_id },
      h("th", { scope: "row", class: "pupil" }, h("label", { for: box.id }, box, h("span", {}, pupilName(pupil)))),
      cells);
  });
  ui.grid = h("table", { class: "entry-grid", id: "entry-grid", role: "grid", "aria-rowcount": state.pupils.length + 1,
    "aria-describedby": "entry-pending-count",
    "aria-label": `Judgements for ${state.analysis.class.name}: ${state.subject}, ${state.strand}` },
  h("thead", {}, head), h("tbody", {}, body));
  ui.grid.addEventListener("keydown", onGridKey);
  ui.grid.addEventListener("click", onGridClick);
  ui.grid.addEventListener("focusin", onGridFocus);
  mount(ui.gridHolder, ui.grid);
  state.active = { r: Math.min(state.active.r, state.pupils.length - 1), c: Math.min(state.active.c, columns.length - 1) };
  for (let r = 0; r < state.pupils.length; r += 1) for (let c = 0; c < columns.length; c += 1) paintCell(r, c);
  setActive(state.active.r, state.active.c, false);
  renderKey();
  renderToolbar();
}

function renderKey() {
  const scales = new Map(state.columns.map((o) => [o.scale.scale_id, o.scale]));
  mount(ui.key, [...scales.values()].map((scale) => bandKey(scale)));
  const options = new Map();
  for (const scale of scales.values()) {
    for (const band of scale.bands) {
      const labels = options.get(band.value) || [];
      if (!labels.includes(band.label)) labels.push(band.label);
      options.set(band.value, labels);
    }
  }
  const previous = ui.fillValue.value;
  ui.fillValue.replaceChildren(...[...options.entries()].sort((a, b) => a[0] - b[0]).map(([value, labels]) =>
    h("option", { value, selected: String(value) === previous }, `${value} · ${labels.join(" / ")}`)));
}

function paintCell(r, c) {
  const td = ui.cells[r]?.[c];
  if (!td) return;
  const pupil = state.pupils[r];
  const objective = state.columns[c];
  const key = cellKey(pupil.pupil_id, objective.objective_id);
  const current = state.current.get(key);
  const pending = state.pending.get(key);
  const errors = state.errors.get(key);
  const pendingBand = pending === undefined ? null : bandOf(objective, pending);
  const children = [h("span", { class: "current", "aria-hidden": "true" },
    current ? bandShort(current.label) : "–")];
  if (pending !== undefined) {
    children.push(h("span", { class: `pending ${bandClass(objective.scale, pending)}`, "aria-hidden": "true" },
      h("span", { class: "marker" }, "•"), pendingBand ? bandShort(pendingBand.label) : String(pending)));
  }
  td.replaceChildren(...children);
  td.dataset.current = current ? String(current.value) : "";
  if (pending === undefined) delete td.dataset.pending;
  else td.dataset.pending = String(pending);
  td.classList.toggle("has-pending", pending !== undefined);
  td.classList.toggle("has-error", Boolean(errors));
  const selected = inSelection(pupil.pupil_id, objective.objective_id);
  td.classList.toggle("selected", selected);
  td.setAttribute("aria-selected", selected ? "true" : "false");
  if (errors) {
    td.setAttribute("aria-invalid", "true");
    td.title = errors.join(" ");
  } else {
    td.removeAttribute("aria-invalid");
    td.title = current ? `${current.label}, assessed ${formatDate(current.assessed_on)}` : "Not assessed yet";
  }
  td.setAttribute("aria-label", `${pupilName(pupil)}, ${objective.code}: `
    + (current ? `now ${current.label}` : "not assessed")
    + (pendingBand || pending !== undefined ? `; new ${pendingBand ? pendingBand.label : pending}, unsaved` : "")
    + (errors ? `; error: ${errors.join(" ")}` : ""));
}

export function paintAll() {
  for (let r = 0; r < ui.cells.length; r += 1) for (let c = 0; c < ui.cells[r].length; c += 1) paintCell(r, c);
}

export function paintKeys(keys) {
  const rowOf = new Map(state.pupils.map((p, r) => [p.pupil_id, r]));
  const colOf = new Map(state.columns.map((o, c) => [o.objective_id, c]));
  for (const key of keys) {
    const [pupilId, objectiveId] = splitKey(key);
    if (rowOf.has(pupilId) && colOf.has(objectiveId)) paintCell(rowOf.get(pupilId), colOf.get(objectiveId));
  }
}

export function renderCounter() {
  const n = state.pending.size;
  const hidden = [...state.pending.keys()].filter((key) => !state.columns.some((o) => o.objective_id === splitKey(key)[1]))
    .length;
  ui.count.textContent = n === 0 ? "No unsaved changes" : `${n} unsaved change${n === 1 ? "" : "s"}`
    + (hidden ? ` (${hidden} in other strands)` : "");
  ui.count.classList.toggle("has-pending", n > 0);
  ui.undo.disabled = !state.undo.length || state.saving;
  ui.save.disabled = n === 0 || state.saving;
  ui.save.textContent = state.saving ? "Saving…" : n ? `Save ${n} judgement${n === 1 ? "" : "s"}` : "Save";
}

export function renderToolbar() {
  renderCounter();
  const nCols = state.cols.size;
  const nRows = state.rows.size;
  const targets = fillTargets().length;
  ui.selection.textContent = nCols || nRows
    ? `Selected: ${nCols ? `${nCols} objective${nCols === 1 ? "" : "s"}` : "all objectives"} × `
      + `${nRows ? `${nRows} pupil${nRows === 1 ? "" : "s"}` : "all pupils"} (${targets} cells)`
    : "Nothing selected";
  ui.fill.disabled = targets === 0;
  ui.clear.disabled = !nCols && !nRows;
  ui.taught.disabled = nCols === 0;
  ui.taught.textContent = nCols ? `Mark ${nCols} as taught` : "Mark as taught";
  ui.selectCol.disabled = !state.columns.length;
  ui.selectRow.disabled = !state.pupils.length;
  if (ui.corner) {
    ui.corner.checked = nRows > 0 && nRows === state.pupils.length;
    ui.corner.indeterminate = nRows > 0 && nRows < state.pupils.length;
  }
}

// --- the active cell -------------------------------------------------------------------------

function elementAt(r, c) {
  if (r < 0 && c < 0) return ui.corner;
  if (r < 0) return ui.colBoxes[c];
  if (c < 0) return ui.rowBoxes[r];
  return ui.cells[r]?.[c];
}

export function setActive(r, c, focus = true) {
  const rows = state.pupils.length;
  const cols = state.columns.length;
  r = Math.max(-1, Math.min(rows - 1, r));
  c = Math.max(-1, Math.min(cols - 1, c));
  const before = elementAt(state.active.r, state.active.c);
  if (before) before.tabIndex = -1;
  state.active = { r, c };
  const element = elementAt(r, c);
  if (!element) return;
  element.tabIndex = 0;
  if (focus) {
    element.focus();
    if (element.scrollIntoView) element.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}
