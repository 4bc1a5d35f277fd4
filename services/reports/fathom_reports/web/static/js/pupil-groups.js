// The fixed pupil groups the read API filters by (services/reports/fathom_reports/pupil_groups.py
// GROUP_FILTERS), named once for every page's menus and captions.
import { capitalise } from "./fathom.js";

/** Menu sections: [section, [[group, label], …]]. */
export const GROUP_SECTIONS = [
  ["Pupil premium", [["pupil_premium", "Pupil premium"], ["not_pupil_premium", "Not pupil premium"]]],
  ["SEN", [["sen", "SEN (support or EHCP)"], ["sen_support", "SEN support"], ["sen_ehcp", "SEN with an EHCP"],
    ["sen_none", "No SEN"]]],
  ["English as an additional language", [["eal", "EAL"], ["not_eal", "Not EAL"]]],
  ["Gender", [["female", "Female"], ["male", "Male"]]],
  ["Other", [["more_able", "More able"]]],
];
export const GROUPS = GROUP_SECTIONS.flatMap(([, groups]) => groups);
const NAMES = new Map(GROUPS);

/** "pupil_premium" → "Pupil premium", "custom:young carer" → "Young carer (custom group)". */
export function groupLabel(group) {
  if (!group) return "All pupils";
  if (NAMES.has(group)) return NAMES.get(group);
  if (group.startsWith("custom:")) return `${capitalise(group.slice(7).trim())} (custom group)`;
  return group;
}
