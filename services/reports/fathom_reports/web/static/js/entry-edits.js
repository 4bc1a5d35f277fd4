// Grid entry's edits: pending values changed as undoable edits, filling the selection, and the selection
// itself (pupils as rows, objectives as columns).
import { showStatus } from "./fathom.js";
import { paintAll, paintKeys, renderToolbar } from "./entry-grid.js";
import { bandOf, cellKey, fillTargets, state, ui } from "./entry-model.js";
import { renderProblems } from "./entry-save.js";

// --- edits, fill and undo -------------------------------------------------------------------

/** Make ``changes`` ({key, after}; after undefined = clear) as one undoable edit. */
export function apply(label, changes) {
  const made = [];
  for (const change of changes) {
    const before = state.pending.get(change.key);
    if (before === change.after && state.pending.has(change.key) === (change.after !== undefined)) continue;
    made.push({ key: change.key, before, after: change.after });
    setPending(change.key, change.after);
  }
  if (!made.length) return 0;
  state.undo.push({ label, changes: made });
  paintKeys(made.map((m) => m.key));
  renderToolbar();
  return made.length;
}

function setPending(key, value) {
  if (value === undefined) state.pending.delete(key);
  else state.pending.set(key, value);
  if (state.errors.delete(key)) renderProblems();  // changed since the API objected: judged again on the next Save
}

export function undo() {
  const edit = state.undo.pop();
  if (!edit || state.saving) {
    if (edit) state.undo.push(edit);
    return;
  }
  for (const change of [...edit.changes].reverse()) setPending(change.key, change.before);
  paintKeys(edit.changes.map((m) => m.key));
  renderToolbar();
  showStatus(`Undone: ${edit.label.toLowerCase()} (${edit.changes.length} cell${edit.changes.length === 1 ? "" : "s"}).`);
}

export function fillSelection(value) {
  const targets = fillTargets();
  if (!targets.length) {
    showStatus("Select a column (click its header or press Ctrl+Space) or some pupils first, then fill.", "error");
    return;
  }
  const changes = [];
  let skipped = 0;
  for (const [pupil, objective] of targets) {
    if (bandOf(objective, value)) changes.push({ key: cellKey(pupil.pupil_id, objective.objective_id), after: value });
    else skipped += 1;
  }
  const made = apply("Fill", changes);
  const labels = [...new Set(targets.map(([, o]) => bandOf(o, value)?.label).filter(Boolean))].join(" / ");
  showStatus(`Filled ${changes.length} cell${changes.length === 1 ? "" : "s"} with ${labels || value}`
    + (made < changes.length ? ` (${changes.length - made} already had it)` : "")
    + (skipped ? `; ${skipped} skipped (no such band on their scale)` : "") + ".", "ok");
}

// --- selection -------------------------------------------------------------------------------

function refreshSelection() {
  ui.rowBoxes.forEach((box) => { box.checked = state.rows.has(box.dataset.pupilId); });
  ui.colBoxes.forEach((box) => { box.checked = state.cols.has(box.dataset.objectiveId); });
  for (const th of ui.grid?.querySelectorAll("th.entry-col") || []) {
    th.classList.toggle("selected", state.cols.has(th.dataset.objectiveId));
  }
  for (const tr of ui.grid?.querySelectorAll("tbody tr") || []) tr.classList.toggle("selected", state.rows.has(tr.dataset.pupilId));
  paintAll();
  renderToolbar();
}

/** The grid's two directions of selection: pupils (rows, by index r) and objectives (columns, by index c). */
const AXES = {
  row: { items: () => state.pupils, chosen: () => state.rows, id: (pupil) => pupil.pupil_id, last: "lastRowClick" },
  column: { items: () => state.columns, chosen: () => state.cols, id: (objective) => objective.objective_id,
    last: "lastColClick" },
};

/** Select or unselect the ``index``th pupil (``axis`` "row") or objective ("column"). */
export function toggleSelection(axis, index) {
  const { items, chosen, id, last } = AXES[axis];
  const item = items()[index];
  if (!item) return;
  if (chosen().has(id(item))) chosen().delete(id(item));
  else chosen().add(id(item));
  state[last] = index;
  refreshSelection();
}

/** A row's or column's checkbox: it alone, or with Shift every box from the last one clicked, follows its tick. */
export function clickBox(axis, event, index) {
  const { items, chosen, id, last } = AXES[axis];
  const on = event.target.checked;
  const anchor = event.shiftKey && state[last] !== null ? state[last] : index;
  for (let i = Math.min(anchor, index); i <= Math.max(anchor, index); i += 1) {
    if (on) chosen().add(id(items()[i]));
    else chosen().delete(id(items()[i]));
  }
  state[last] = index;
  refreshSelection();
}

export function selectAllRows(on) {
  state.rows = on ? new Set(state.pupils.map((p) => p.pupil_id)) : new Set();
  refreshSelection();
}

export function clearSelection() {
  state.rows.clear();
  state.cols.clear();
  refreshSelection();
}
