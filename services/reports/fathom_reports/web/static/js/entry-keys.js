// Grid entry's keyboard: moving around the grid, typing a band, filling, clearing and selecting by key.
import { bandShort, showStatus } from "./fathom.js";
import { apply, clearSelection, fillSelection, toggleSelection } from "./entry-edits.js";
import { setActive } from "./entry-grid.js";
import { cellKey, state } from "./entry-model.js";

export function onGridFocus(event) {
  const target = event.target;
  if (target.dataset && target.dataset.r !== undefined) {
    const r = Number(target.dataset.r);
    const c = Number(target.dataset.c);
    if (r !== state.active.r || c !== state.active.c) setActive(r, c, false);
  }
}

export function onGridClick(event) {
  const td = event.target.closest("td.entry-cell");
  if (td) setActive(Number(td.dataset.r), Number(td.dataset.c));
}

/** Down one row; from the last pupil, to the first pupil of the next objective (how a teacher works through). */
function moveDown() {
  const { r, c } = state.active;
  if (r < state.pupils.length - 1) setActive(r + 1, c);
  else if (c < state.columns.length - 1 && c >= 0) setActive(0, c + 1);
  else setActive(r, c);
}

function bandForKey(objective, key) {
  const bands = objective.scale?.bands || [];
  if (/^\d$/.test(key)) return bands.find((band) => String(band.value) === key) || null;
  if (/^[a-z]$/i.test(key)) {
    return bands.find((band) => band.label.toUpperCase().startsWith(key.toUpperCase()))
      || bands.find((band) => bandShort(band.label).toUpperCase().startsWith(key.toUpperCase())) || null;
  }
  return null;
}

export function onGridKey(event) {
  const { r, c } = state.active;
  const rows = state.pupils.length;
  const cols = state.columns.length;
  const inCell = r >= 0 && c >= 0;
  const key = event.key;
  const ctrl = event.ctrlKey || event.metaKey;
  const handled = () => event.preventDefault();

  if (key === "ArrowDown") { handled(); setActive(r + 1, c); return; }
  if (key === "ArrowUp") { handled(); setActive(r - 1, c); return; }
  if (key === "ArrowRight") { handled(); setActive(r, c + 1); return; }
  if (key === "ArrowLeft") { handled(); setActive(r, c - 1); return; }
  if (key === "Home") { handled(); if (ctrl) setActive(0, 0); else setActive(r, 0); return; }
  if (key === "End") { handled(); if (ctrl) setActive(rows - 1, cols - 1); else setActive(r, cols - 1); return; }
  if (key === "PageDown") { handled(); setActive(rows - 1, c); return; }
  if (key === "PageUp") { handled(); setActive(r < 0 ? r : 0, c); return; }
  if (key === "Tab" && !ctrl && !event.altKey && r >= 0) {
    if (!event.shiftKey) {
      if (c < cols - 1) { handled(); setActive(r, c + 1); } else if (r < rows - 1) { handled(); setActive(r + 1, 0); }
    } else if (c > 0) { handled(); setActive(r, c - 1); } else if (c === 0 && r > 0) { handled(); setActive(r - 1, cols - 1); }
    return;  // otherwise Tab leaves the grid
  }
  if (key === "Enter") { handled(); moveDown(); return; }
  if (key === "Escape") { if (state.rows.size || state.cols.size) { handled(); clearSelection(); } return; }
  if (key === " " && inCell && ctrl) { handled(); toggleSelection("column", c); return; }
  if (key === " " && inCell && event.shiftKey) { handled(); toggleSelection("row", r); return; }
  if (!inCell) return;
  if (event.altKey && !ctrl) {
    const match = /^(?:Digit|Numpad|Key)(\w)$/.exec(event.code || "");
    const band = match ? bandForKey(state.columns[c], match[1].toLowerCase()) : null;
    if (band) { handled(); fillSelection(band.value); }
    return;
  }
  if (ctrl) return;
  if (key === "Delete" || key === "Backspace") {
    handled();
    const cellId = cellKey(state.pupils[r].pupil_id, state.columns[c].objective_id);
    if (state.pending.has(cellId)) apply("Clear", [{ key: cellId, after: undefined }]);
    return;
  }
  if (key.length === 1 && /[0-9a-z]/i.test(key)) {
    handled();
    const objective = state.columns[c];
    const band = bandForKey(objective, key);
    if (!band) {
      showStatus(`“${key}” is not a band of ${objective.code}'s scale: use `
        + objective.scale.bands.map((b) => `${b.value} (${b.label})`).join(", ") + ".", "error");
      return;
    }
    if (document.getElementById("status").classList.contains("status-error")) showStatus("");
    apply("Set", [{ key: cellKey(state.pupils[r].pupil_id, objective.objective_id), after: band.value }]);
    moveDown();
  }
}
