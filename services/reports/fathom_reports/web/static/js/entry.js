// Grid entry: a teacher enters judgements for a class, pupils down and objectives across, keyboard first.
// Pending values stay in the page (across strands) until one Save sends them as one all-or-nothing batch;
// the API's per-item errors (judgements.<i>.<field>) come back onto the cells they belong to.
import {
  ApiError, bandClass, bandKey, bandShort, data, formatDate, getJSON, h, load, mount, newKey, send, setCrumbs,
  setTitle, showProblem, showRefusal, showStatus,
} from "./fathom.js";

const classId = data.classId;
const SOURCE_LABELS = { teacher: "Teacher", self: "Pupil (self-assessment)", moderator: "Moderator" };
const NO_STRAND = "(no strand)";

const state = {
  analysis: null,
  source: "teacher",
  date: londonToday(),
  year: null,
  subject: null,
  strand: null,
  pupils: [],         // the class's pupils, in the API's order
  columns: [],        // the objectives shown
  objectives: new Map(),  // objective_id → objective (all of the class's objectives)
  current: new Map(),     // key → heat-map cell {value, label, assessed_on, …}
  pending: new Map(),     // key → band value (unsaved)
  errors: new Map(),      // key → [messages] from the last Save
  undo: [],               // [{label, changes: [{key, before, after}]}]
  rows: new Set(),        // selected pupil ids
  cols: new Set(),        // selected objective ids
  active: { r: 0, c: 0 },
  lastRowClick: null,
  lastColClick: null,
  attempt: null,          // {body, key}: a batch whose answer never came, retried with the same key
  saving: false,
  sources: [],            // the sources the signed-in person may record here (a teacher: never "moderator")
};
const ui = {};

const cellKey = (pupilId, objectiveId) => `${pupilId}|${objectiveId}`;
const splitKey = (key) => key.split("|");

/** Today in England (the API judges "the future" by the school clock). */
function londonToday() {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", year: "numeric", month: "2-digit",
    day: "2-digit" }).formatToParts(new Date());
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

function pupilName(pupil) {
  return pupil.name || "Pupil (name erased)";
}

function strandOf(objective) {
  return objective.strand || NO_STRAND;
}

function bandOf(objective, value) {
  return (objective.scale?.bands || []).find((band) => band.value === value) || null;
}

// --- loading ---------------------------------------------------------------------------------

async function fetchAnalysis(sequence = null) {
  const params = { as_of: null, source: state.source };
  if (sequence !== null && sequence !== undefined) params.consistency = `at_least:${sequence}`;
  return getJSON(`/v1/classes/${encodeURIComponent(classId)}/analysis`, params);
}

/** The judgement sources the signed-in person may record for this class, as the directory lists them (the
 * access policy decides; offering only these spares a teacher a "moderator" batch the API would refuse). */
async function recordableSources() {
  const directory = await getJSON("/v1/directory", { as_of: null, consistency: null });
  const klass = directory.schools.flatMap((school) => school.classes).find((c) => c.class_id === classId);
  return klass?.sources ?? [];
}

function takeAnalysis(analysis) {
  state.analysis = analysis;
  state.pupils = analysis.pupils;
  state.objectives = new Map(analysis.objectives.filter((o) => !o.retired).map((o) => [o.objective_id, o]));
  state.current = new Map();
  for (const row of analysis.heat_map) {
    for (const [objectiveId, cell] of Object.entries(row.cells)) state.current.set(cellKey(row.pupil_id, objectiveId), cell);
  }
  const known = new Set(state.pupils.map((p) => p.pupil_id));
  for (const id of [...state.rows]) if (!known.has(id)) state.rows.delete(id);
}

/** The year group, subject and strand shown first: the class's year, its first strand with unassessed work. */
function chooseDefaults() {
  const objectives = [...state.objectives.values()];
  const years = [...new Set(objectives.map((o) => o.year_group))];
  state.year = years.includes(state.analysis.class.year_group) ? state.analysis.class.year_group : years[0] ?? null;
  const ofYear = objectives.filter((o) => o.year_group === state.year);
  const first = ofYear.find((o) => o.not_assessed > 0) || ofYear[0];
  state.subject = first ? first.subject : null;
  state.strand = first ? strandOf(first) : null;
}

function subjectsOf(year) {
  return [...new Set([...state.objectives.values()].filter((o) => o.year_group === year).map((o) => o.subject))];
}

function strandsOf(year, subject) {
  const list = [...state.objectives.values()].filter((o) => o.year_group === year && o.subject === subject);
  list.sort((a, b) => a.code.localeCompare(b.code, "en", { numeric: true }));
  return [...new Set(list.map(strandOf))];
}

function visibleObjectives() {
  return [...state.objectives.values()]
    .filter((o) => o.year_group === state.year && o.subject === state.subject && strandOf(o) === state.strand)
    .sort((a, b) => a.code.localeCompare(b.code, "en", { numeric: true }));
}

// --- the page --------------------------------------------------------------------------------

load(async () => {
  const sources = recordableSources();
  sources.catch(() => {});  // awaited below; a refused analysis returns first
  let analysis;
  try {
    analysis = await fetchAnalysis();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return refused(error);
    throw error;
  }
  state.sources = await sources;
  if (!state.sources.length) {
    return refused({ status: 403, title: "Forbidden", detail: "You may read this class but not record judgements." });
  }
  takeAnalysis(analysis);
  chooseDefaults();
  const klass = analysis.class;
  setTitle(`Enter judgements · ${klass.name}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: `Class ${klass.name}`, href: `/classes/${encodeURIComponent(classId)}` },
    { label: "Enter judgements" }]);
  buildPage();
  renderGrid();
  window.addEventListener("beforeunload", (event) => {
    if (state.pending.size) {
      event.preventDefault();
      event.returnValue = "";  // the browser asks "Leave site? Changes you made may not be saved."
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z" && !event.shiftKey) {
      const target = event.target;
      if (target.matches && target.matches("input[type=date], input[type=text], textarea")) return;  // their own undo
      event.preventDefault();
      undo();
    } else if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();  // Ctrl+S saves the batch (not the web page)
      save();
    }
  });
});

function refused(error) {
  const forbidden = error.status === 403;
  setTitle(forbidden ? "Not one of your classes" : "No such class");
  setCrumbs([{ label: "Home", href: "/" }, { label: forbidden ? "Not allowed" : "Not found" }]);
  const why = forbidden ? "Judgements can only be entered for your own classes (or your own school's, as a school "
    + "leader). If this should be one of your classes, ask your school's data lead to assign you to it."
    : "There is no class with this id in your trust.";
  showRefusal(error, { back: "Back to my classes", explanation: error.detail ? `${error.detail} ${why}` : why,
    heading: forbidden ? "403 · You cannot enter judgements for this class" : "404 · No such class" });
}

function buildPage() {
  ui.year = h("select", { id: "entry-year", onchange: () => { state.year = Number(ui.year.value); pickSubject(); } });
  ui.subject = h("select", { id: "entry-subject", onchange: () => { state.subject = ui.subject.value; pickStrand(); } });
  ui.strand = h("select", { id: "entry-strand", onchange: () => { state.strand = ui.strand.value; renderGrid(); } });
  ui.date = h("input", { id: "entry-date", type: "date", value: state.date, max: londonToday(), required: true,
    onchange: () => { state.date = ui.date.value; forgetErrors("Date"); renderCounter(); } });
  ui.source = h("select", { id: "entry-source", onchange: changeSource },
    state.sources.map((value) => h("option", { value, selected: value === state.source },
      SOURCE_LABELS[value] ?? value)));
  fillFilterOptions();

  ui.count = h("span", { id: "entry-pending-count", class: "pending-count", "aria-live": "polite" });
  ui.undo = h("button", { type: "button", id: "entry-undo", onclick: undo, "aria-keyshortcuts": "Control+Z" }, "Undo");
  ui.save = h("button", { type: "button", id: "entry-save", class: "primary", onclick: save,
    "aria-keyshortcuts": "Control+S" }, "Save");
  ui.fillValue = h("select", { id: "entry-fill-value" });
  ui.fill = h("button", { type: "button", id: "entry-fill", onclick: () => fillSelection(Number(ui.fillValue.value)) },
    "Fill selected");
  ui.selectCol = h("button", { type: "button", id: "entry-select-column",
    onclick: () => toggleSelection("column", state.active.c), "aria-keyshortcuts": "Control+Space" }, "Select column");
  ui.selectRow = h("button", { type: "button", id: "entry-select-row",
    onclick: () => toggleSelection("row", state.active.r), "aria-keyshortcuts": "Shift+Space" }, "Select pupil");
  ui.clear = h("button", { type: "button", id: "entry-clear-selection", onclick: clearSelection }, "Clear selection");
  ui.selection = h("span", { id: "entry-selection", class: "selection-summary" });
  ui.taught = h("button", { type: "button", id: "entry-mark-taught", onclick: markTaught }, "Mark as taught");

  ui.problems = h("section", { id: "entry-problems", class: "entry-problems", "aria-live": "assertive", hidden: true });
  ui.result = h("section", { id: "entry-result", class: "entry-result", "aria-live": "polite", hidden: true });
  ui.key = h("div", { class: "entry-key" });
  ui.gridHolder = h("div", { class: "table-scroll entry-scroll" });

  const analysisLink = h("a", { href: `/classes/${encodeURIComponent(classId)}`, class: "button" }, "Class Analysis");
  mount("view",
    h("form", { class: "panel entry-filters toolbar", id: "entry-filters", "aria-label": "What to enter",
      onsubmit: (event) => event.preventDefault() },
    label("Year group", ui.year), label("Subject", ui.subject), label("Strand", ui.strand),
    label("Assessed on", ui.date), label("Source", ui.source), h("span", { class: "spacer" }), analysisLink),
    h("div", { class: "entry-bar", role: "toolbar", "aria-label": "Entry actions", "aria-controls": "entry-grid" },
      h("div", { class: "entry-bar-group" }, ui.count, ui.undo, ui.save),
      h("div", { class: "entry-bar-group" }, ui.selection, ui.selectCol, ui.selectRow, ui.clear),
      h("div", { class: "entry-bar-group" }, h("label", { for: "entry-fill-value", class: "inline-label" }, "Fill with"),
        ui.fillValue, ui.fill, ui.taught)),
    ui.problems,
    ui.result,
    ui.key,
    ui.gridHolder,
    help());
}

function label(text, control) {
  return h("label", { for: control.id }, text, control);
}

function help() {
  const row = (keys, what) => h("tr", {}, h("th", { scope: "row" }, keys), h("td", {}, what));
  return h("details", { class: "panel entry-help", open: true },
    h("summary", {}, "Keyboard"),
    h("table", { class: "keys" }, h("tbody", {},
      row("Band value or first letter (1–4, E D S M…)", "set the cell, move down (then to the next objective)"),
      row("Arrows, Tab / Shift+Tab, Home / End", "move; Enter moves down"),
      row("Delete / Backspace", "clear the cell's unsaved value"),
      row("Ctrl+Space / Shift+Space", "select the column / the pupil (or tick the checkboxes; Shift+click for a range)"),
      row("Alt+band (e.g. Alt+3)", "fill every selected cell with that band"),
      row("Escape", "clear the selection"),
      row("Ctrl+Z (⌘Z)", "undo the last change or fill"),
      row("Ctrl+S (⌘S)", "save every unsaved change as one batch"))));
}

function fillFilterOptions() {
  const years = [...new Set([...state.objectives.values()].map((o) => o.year_group))].sort((a, b) => a - b);
  ui.year.replaceChildren(...years.map((y) => h("option", { value: y, selected: y === state.year }, `Year ${y}`)));
  ui.subject.replaceChildren(...subjectsOf(state.year).map((s) => h("option", { value: s, selected: s === state.subject },
    s.charAt(0).toUpperCase() + s.slice(1))));
  ui.strand.replaceChildren(...strandsOf(state.year, state.subject).map((s) => h("option",
    { value: s, selected: s === state.strand }, s.charAt(0).toUpperCase() + s.slice(1))));
}

/** Keep the chosen year, subject and strand where the (re)loaded objectives still have them. */
function syncFilters() {
  const years = [...new Set([...state.objectives.values()].map((o) => o.year_group))];
  if (!years.includes(state.year)) chooseDefaults();
  const subjects = subjectsOf(state.year);
  if (!subjects.includes(state.subject)) state.subject = subjects[0] ?? null;
  const strands = strandsOf(state.year, state.subject);
  if (!strands.includes(state.strand)) state.strand = strands[0] ?? null;
  fillFilterOptions();
}

function pickSubject() {
  const subjects = subjectsOf(state.year);
  if (!subjects.includes(state.subject)) state.subject = subjects[0] ?? null;
  pickStrand();
}

function pickStrand() {
  const strands = strandsOf(state.year, state.subject);
  if (!strands.includes(state.strand)) state.strand = strands[0] ?? null;
  fillFilterOptions();
  renderGrid();
}

async function changeSource() {
  state.source = ui.source.value;
  forgetErrors("Source");
  showStatus("Loading the current judgements of this source…");
  try {
    takeAnalysis(await fetchAnalysis());
    showStatus("");
    syncFilters();
    renderGrid();
  } catch (error) {
    showProblem(error);
  }
}

// --- the grid --------------------------------------------------------------------------------

function renderGrid() {
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

function paintAll() {
  for (let r = 0; r < ui.cells.length; r += 1) for (let c = 0; c < ui.cells[r].length; c += 1) paintCell(r, c);
}

function paintKeys(keys) {
  const rowOf = new Map(state.pupils.map((p, r) => [p.pupil_id, r]));
  const colOf = new Map(state.columns.map((o, c) => [o.objective_id, c]));
  for (const key of keys) {
    const [pupilId, objectiveId] = splitKey(key);
    if (rowOf.has(pupilId) && colOf.has(objectiveId)) paintCell(rowOf.get(pupilId), colOf.get(objectiveId));
  }
}

function renderCounter() {
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

function renderToolbar() {
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

// --- focus and keys --------------------------------------------------------------------------

function elementAt(r, c) {
  if (r < 0 && c < 0) return ui.corner;
  if (r < 0) return ui.colBoxes[c];
  if (c < 0) return ui.rowBoxes[r];
  return ui.cells[r]?.[c];
}

function setActive(r, c, focus = true) {
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

function onGridFocus(event) {
  const target = event.target;
  if (target.dataset && target.dataset.r !== undefined) {
    const r = Number(target.dataset.r);
    const c = Number(target.dataset.c);
    if (r !== state.active.r || c !== state.active.c) setActive(r, c, false);
  }
}

function onGridClick(event) {
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

function onGridKey(event) {
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

// --- edits, fill and undo -------------------------------------------------------------------

/** Make ``changes`` ({key, after}; after undefined = clear) as one undoable edit. */
function apply(label, changes) {
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

function undo() {
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

function inSelection(pupilId, objectiveId) {
  if (!state.rows.size && !state.cols.size) return false;
  return (!state.rows.size || state.rows.has(pupilId)) && (!state.cols.size || state.cols.has(objectiveId));
}

function fillTargets() {
  if (!state.rows.size && !state.cols.size) return [];
  const targets = [];
  for (const pupil of state.pupils) {
    for (const objective of state.columns) {
      if (inSelection(pupil.pupil_id, objective.objective_id)) targets.push([pupil, objective]);
    }
  }
  return targets;
}

function fillSelection(value) {
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
function toggleSelection(axis, index) {
  const { items, chosen, id, last } = AXES[axis];
  const item = items()[index];
  if (!item) return;
  if (chosen().has(id(item))) chosen().delete(id(item));
  else chosen().add(id(item));
  state[last] = index;
  refreshSelection();
}

/** A row's or column's checkbox: it alone, or with Shift every box from the last one clicked, follows its tick. */
function clickBox(axis, event, index) {
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

function selectAllRows(on) {
  state.rows = on ? new Set(state.pupils.map((p) => p.pupil_id)) : new Set();
  refreshSelection();
}

function clearSelection() {
  state.rows.clear();
  state.cols.clear();
  refreshSelection();
}

// --- saving ----------------------------------------------------------------------------------

function batchKeys() {
  const pupilOrder = new Map(state.pupils.map((p, i) => [p.pupil_id, i]));
  const objectiveOrder = new Map([...state.objectives.values()].map((o, i) => [o.objective_id, i]));
  return [...state.pending.keys()].sort((a, b) => {
    const [pa, oa] = splitKey(a);
    const [pb, ob] = splitKey(b);
    return (objectiveOrder.get(oa) ?? 1e9) - (objectiveOrder.get(ob) ?? 1e9)
      || (pupilOrder.get(pa) ?? 1e9) - (pupilOrder.get(pb) ?? 1e9);
  });
}

async function save() {
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
function forgetErrors(fieldName) {
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
function renderProblems() {
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

async function markTaught() {
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
