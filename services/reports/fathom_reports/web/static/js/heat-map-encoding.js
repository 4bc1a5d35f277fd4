// The Class Analysis heat map, read compact and expanded here. `GET /v1/classes/<id>/analysis?heat_map=compact`
// lists every distinct cell once and, per pupil, one entry per objective (in the order of `objectives`): an
// index into those cells, or null when not assessed — a fraction of the bytes to send and parse. The pages
// read the full form, one row per pupil with its cells keyed by objective id, which this rebuilds.
import { getJSON } from "./fathom.js";

/** A Class Analysis read (``getJSON`` arguments), asked for compact and answered in the full form. */
export async function getClassAnalysis(path, params = {}) {
  return expandHeatMap(await getJSON(path, { ...params, heat_map: "compact" }));
}

/** ``view`` with its heat map in the full form (in place; a full one is left as it is). Equal cells are one
 * shared object: read them, never change them. */
export function expandHeatMap(view) {
  const compact = view.heat_map;
  if (Array.isArray(compact)) return view;
  const objectiveIds = view.objectives.map((objective) => objective.objective_id);
  view.heat_map = compact.rows.map((row) => {
    const cells = {};
    row.cells.forEach((index, column) => {
      if (index !== null) cells[objectiveIds[column]] = compact.cells[index];
    });
    return { pupil_id: row.pupil_id, cells };
  });
  return view;
}
