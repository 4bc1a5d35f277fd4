// Grid entry's model: the page's state (pending values, errors, selection, undo), the DOM elements it keeps,
// and what follows from the class's analysis (which objectives a year, subject and strand show).
import { data, getJSON } from "./fathom.js";
import { getClassAnalysis } from "./heat-map-encoding.js";

export const classId = data.classId;
const NO_STRAND = "(no strand)";

export const state = {
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

export const ui = {};

export const cellKey = (pupilId, objectiveId) => `${pupilId}|${objectiveId}`;
export const splitKey = (key) => key.split("|");

/** Today in England (the API judges "the future" by the school clock). */
export function londonToday() {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", year: "numeric", month: "2-digit",
    day: "2-digit" }).formatToParts(new Date());
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function pupilName(pupil) {
  return pupil.name || "Pupil (name erased)";
}

export function strandOf(objective) {
  return objective.strand || NO_STRAND;
}

export function bandOf(objective, value) {
  return (objective.scale?.bands || []).find((band) => band.value === value) || null;
}

// --- loading ---------------------------------------------------------------------------------

export async function fetchAnalysis(sequence = null) {
  const params = { as_of: null, source: state.source };
  if (sequence !== null && sequence !== undefined) params.consistency = `at_least:${sequence}`;
  return getClassAnalysis(`/v1/classes/${encodeURIComponent(classId)}/analysis`, params);
}

/** The judgement sources the signed-in person may record for this class, as the directory lists them (the
 * access policy decides; offering only these spares a teacher a "moderator" batch the API would refuse). */
export async function recordableSources() {
  const directory = await getJSON("/v1/directory", { as_of: null, consistency: null });
  const klass = directory.schools.flatMap((school) => school.classes).find((c) => c.class_id === classId);
  return klass?.sources ?? [];
}

export function takeAnalysis(analysis) {
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
export function chooseDefaults() {
  const objectives = [...state.objectives.values()];
  const years = [...new Set(objectives.map((o) => o.year_group))];
  state.year = years.includes(state.analysis.class.year_group) ? state.analysis.class.year_group : years[0] ?? null;
  const ofYear = objectives.filter((o) => o.year_group === state.year);
  const first = ofYear.find((o) => o.not_assessed > 0) || ofYear[0];
  state.subject = first ? first.subject : null;
  state.strand = first ? strandOf(first) : null;
}

export function subjectsOf(year) {
  return [...new Set([...state.objectives.values()].filter((o) => o.year_group === year).map((o) => o.subject))];
}

export function strandsOf(year, subject) {
  const list = [...state.objectives.values()].filter((o) => o.year_group === year && o.subject === subject);
  list.sort((a, b) => a.code.localeCompare(b.code, "en", { numeric: true }));
  return [...new Set(list.map(strandOf))];
}

export function visibleObjectives() {
  return [...state.objectives.values()]
    .filter((o) => o.year_group === state.year && o.subject === state.subject && strandOf(o) === state.strand)
    .sort((a, b) => a.code.localeCompare(b.code, "en", { numeric: true }));
}

// --- selection and batch ---------------------------------------------------------------------

export function inSelection(pupilId, objectiveId) {
  if (!state.rows.size && !state.cols.size) return false;
  return (!state.rows.size || state.rows.has(pupilId)) && (!state.cols.size || state.cols.has(objectiveId));
}

export function fillTargets() {
  if (!state.rows.size && !state.cols.size) return [];
  const targets = [];
  for (const pupil of state.pupils) {
    for (const objective of state.columns) {
      if (inSelection(pupil.pupil_id, objective.objective_id)) targets.push([pupil, objective]);
    }
  }
  return targets;
}

export function batchKeys() {
  const pupilOrder = new Map(state.pupils.map((p, i) => [p.pupil_id, i]));
  const objectiveOrder = new Map([...state.objectives.values()].map((o, i) => [o.objective_id, i]));
  return [...state.pending.keys()].sort((a, b) => {
    const [pa, oa] = splitKey(a);
    const [pb, ob] = splitKey(b);
    return (objectiveOrder.get(oa) ?? 1e9) - (objectiveOrder.get(ob) ?? 1e9)
      || (pupilOrder.get(pa) ?? 1e9) - (pupilOrder.get(pb) ?? 1e9);
  });
}
