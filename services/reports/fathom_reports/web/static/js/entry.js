// Grid entry: a teacher enters judgements for a class, pupils down and objectives across, keyboard first.
// Pending values stay in the page (across strands) until one Save sends them as one all-or-nothing batch;
// the API's per-item errors (judgements.<i>.<field>) come back onto the cells they belong to.
// This module builds the page; the grid's model, filters, drawing, keys, edits and saving have their own.
// Each imports only modules after it in this order: this page, keys, edits, save, filters, grid, model (and
// fathom.js). Where a control drawn low down must call up (the grid's keys and checkboxes call the keyboard and
// the selection; the source filter forgets saving's errors), this page connects them at start-up, not an import.
import { ApiError, h, load, mount, setCrumbs, setTitle, showRefusal } from "./fathom.js";
import { clearSelection, clickBox, fillSelection, selectAllRows, toggleSelection, undo } from "./entry-edits.js";
import { changeSource, connectFilters, fillFilterOptions, pickStrand, pickSubject } from "./entry-filters.js";
import { connectGrid, renderCounter, renderGrid } from "./entry-grid.js";
import { onGridClick, onGridFocus, onGridKey } from "./entry-keys.js";
import {
  chooseDefaults, classId, fetchAnalysis, londonToday, recordableSources, state, takeAnalysis, ui,
} from "./entry-model.js";
import { forgetErrors, markTaught, save } from "./entry-save.js";

connectGrid({ onGridKey, onGridClick, onGridFocus, clickBox, selectAllRows });
connectFilters({ forgetErrors });

const SOURCE_LABELS = { teacher: "Teacher", self: "Pupil (self-assessment)", moderator: "Moderator" };

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
  const summativeLink = h("a", { href: `/classes/${encodeURIComponent(classId)}/summative`, class: "button",
    id: "entry-summative" }, "Summative codes");
  mount("view",
    h("form", { class: "panel entry-filters toolbar", id: "entry-filters", "aria-label": "What to enter",
      onsubmit: (event) => event.preventDefault() },
    label("Year group", ui.year), label("Subject", ui.subject), label("Strand", ui.strand),
    label("Assessed on", ui.date), label("Source", ui.source), h("span", { class: "spacer" }), analysisLink,
    summativeLink),
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
