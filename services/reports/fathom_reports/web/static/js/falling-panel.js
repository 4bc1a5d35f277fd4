// The falling-behind lists as a pupil progress meeting shows them (the class's meeting and the school's): the three
// lists, each pupil leading to their profile, with counts by pupil group and the small-group caution.
import { csvLink, h } from "./fathom.js";

export function pupilLink(pupil) {
  return h("a", { href: `/pupils/${encodeURIComponent(pupil.pupil_id)}` }, pupil.name || "Pupil (details erased)");
}

function groupName(group) {
  return group.startsWith("custom:") ? group.slice(7) : group.replaceAll("_", " ");
}

/** ``lists``: a falling-behind answer; ``path``/``params``: its read, for the CSV link; ``withClass``: name each
 * pupil's class (a school's lists). */
export function fallingPanel(lists, path, params, { withClass = false } = {}) {
  const list = (name, describe) => {
    const part = lists[name];
    const counts = part.by_group.filter((row) => row.listed > 0);
    return h("div", { class: "falling-list", id: `falling-${name}`, "data-count": part.count },
      h("h3", {}, part.title, h("span", { class: "count" }, String(part.count))),
      part.pupils.length ? h("ul", { class: "plain-list" }, part.pupils.map((pupil) => h("li", {
        "data-pupil-id": pupil.pupil_id }, pupilLink(pupil), h("span", { class: "muted" },
        ` ${describe(pupil)}${withClass && pupil.class_id ? ` · class ${pupil.class_id}` : ""}`))))
        : h("p", { class: "empty" }, "No one."),
      counts.length ? h("p", { class: "group-counts" }, h("span", { class: "label" }, "By group: "),
        counts.map((row, index) => [index ? ", " : "", `${groupName(row.group)} ${row.listed} of ${row.pupils}`,
          row.small_group ? h("abbr", { class: "small-group", title: "Small group: a child, not a trend" }, "*") : null]))
        : null);
  };
  return h("section", { class: "panel", "aria-labelledby": "falling-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "falling-title" }, "Falling behind"),
      h("div", { class: "downloads" }, csvLink(path, params, "Falling behind CSV"))),
    h("p", { class: "hint" }, `Who to look at first. Expected: ${lists.expected_code || "–"} or above. `,
      h("abbr", { class: "small-group", title: "Small group" }, "*"), " a group smaller than the trust's threshold."),
    h("div", { class: "falling-grid" },
      list("moved_down", (p) => `${p.previous_code} → ${p.code}`),
      list("below_expected_twice", (p) => `${p.previous_code}, then ${p.code}`),
      list("disagreement", (p) => p.disagreement?.prompt || "")));
}
