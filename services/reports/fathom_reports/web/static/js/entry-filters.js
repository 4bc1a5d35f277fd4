// Grid entry's filters: year group, subject, strand and source, which choose the grid's objectives.
import { h, showProblem, showStatus } from "./fathom.js";
import { renderGrid } from "./entry-grid.js";
import { chooseDefaults, fetchAnalysis, state, strandsOf, subjectsOf, takeAnalysis, ui } from "./entry-model.js";

// Forgetting the last Save's errors about the source belongs to saving (entry-save.js), and saving refills these
// filters: so the page hands forgetErrors over once at start-up (entry.js calls connectFilters) instead of the
// two modules importing each other.
let forgetErrors;

export function connectFilters(actions) {
  ({ forgetErrors } = actions);
}

export function fillFilterOptions() {
  const years = [...new Set([...state.objectives.values()].map((o) => o.year_group))].sort((a, b) => a - b);
  ui.year.replaceChildren(...years.map((y) => h("option", { value: y, selected: y === state.year }, `Year ${y}`)));
  ui.subject.replaceChildren(...subjectsOf(state.year).map((s) => h("option", { value: s, selected: s === state.subject },
    s.charAt(0).toUpperCase() + s.slice(1))));
  ui.strand.replaceChildren(...strandsOf(state.year, state.subject).map((s) => h("option",
    { value: s, selected: s === state.strand }, s.charAt(0).toUpperCase() + s.slice(1))));
}

/** Keep the chosen year, subject and strand where the (re)loaded objectives still have them. */
export function syncFilters() {
  const years = [...new Set([...state.objectives.values()].map((o) => o.year_group))];
  if (!years.includes(state.year)) chooseDefaults();
  const subjects = subjectsOf(state.year);
  if (!subjects.includes(state.subject)) state.subject = subjects[0] ?? null;
  const strands = strandsOf(state.year, state.subject);
  if (!strands.includes(state.strand)) state.strand = strands[0] ?? null;
  fillFilterOptions();
}

export function pickSubject() {
  const subjects = subjectsOf(state.year);
  if (!subjects.includes(state.subject)) state.subject = subjects[0] ?? null;
  pickStrand();
}

export function pickStrand() {
  const strands = strandsOf(state.year, state.subject);
  if (!strands.includes(state.strand)) state.strand = strands[0] ?? null;
  fillFilterOptions();
  renderGrid();
}

export async function changeSource() {
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
