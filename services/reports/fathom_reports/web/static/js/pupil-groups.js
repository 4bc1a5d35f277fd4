// The fixed pupil groups the read API filters by, as the server renders them into the page
// (data-pupil-groups, from fathom_reports/web/group_menu.py): named once for every page's menus and captions.
import { capitalise, data } from "./fathom.js";

const SERVED = JSON.parse(data.pupilGroups || '{"sections": [], "complements": {}, "counterparts": {}}');

/** Menu sections: [section, [[group, label], …]]. */
export const GROUP_SECTIONS = SERVED.sections;
export const GROUPS = GROUP_SECTIONS.flatMap(([, groups]) => groups);
const NAMES = new Map(GROUPS);

/** "pupil_premium" → "Pupil premium", "custom:young carer" → "Young carer (custom group)". */
export function groupLabel(group) {
  if (!group) return "All pupils";
  if (NAMES.has(group)) return NAMES.get(group);
  if (group.startsWith("custom:")) return `${capitalise(group.slice(7).trim())} (custom group)`;
  return group;
}

/** The group usually compared with ``group``, or null (then the whole year group is the comparison). */
export function counterpartOf(group) {
  return SERVED.counterparts[group] || null;
}

/** The group holding exactly the pupils outside ``group``, or null when the API has no such filter. */
export function complementOf(group) {
  return SERVED.complements[group] || null;
}
