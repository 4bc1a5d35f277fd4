// Class Analysis's panels: the stats, the heat map with its key, the gaps and the suggested groups.
import { asOf, bandKey, capitalise, csvLink, distributionBar, formatDate, h, withAsOf } from "./fathom.js";
import { ANALYSIS, objectiveLabel, plural, query, state } from "./class-analysis-model.js";
import { openStartForm } from "./class-analysis-start.js";
import { percentText, pupilName, taughtNotAssessed } from "./heatmap.js";
import { groupLabel } from "./pupil-groups.js";

const BELOW_TARGET_SHOWN = 8;

export function stats(view) {
  const pupils = view.pupils.length;
  const cells = pupils * view.objectives.length;
  const assessed = view.objectives.reduce((sum, o) => sum + o.assessed, 0);
  const tile = (label, value, note) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value,
    note ? h("span", { class: "stat-note" }, note) : null));
  return h("dl", { class: "stats" },
    tile("Pupils", String(pupils), state.group ? groupLabel(state.group) : null),
    tile("Objectives", String(view.objectives.length), state.subject ? capitalise(state.subject) : null),
    tile("Assessed", cells ? `${Math.round((assessed * 100) / cells)}%` : "–", "of pupil × objective cells"),
    tile("Below target", String(view.gaps.below_target.length), `under ${view.gaps.secure_target_percent}% secure`),
    tile("Taught, not assessed", String(view.objectives.filter(taughtNotAssessed).length), "objectives"));
}

function keys(view) {
  const scales = new Map(view.objectives.map((o) => [o.scale.scale_id, o.scale]));
  return h("div", { class: "keys" }, [...scales.values()].map((scale) => bandKey(scale)),
    h("ul", { class: "band-key other-key", "aria-label": "Other marks" },
      h("li", {}, h("span", { class: "key-mark key-tna", "aria-hidden": "true" }, "!"),
        " Taught, not yet assessed for every pupil"),
      h("li", {}, h("span", { class: "key-mark key-awaiting", "aria-hidden": "true" }),
        " Awaiting assessment"),
      h("li", {}, h("span", { class: "key-mark key-empty", "aria-hidden": "true" }), " Blank: not assessed"),
      h("li", {}, h("span", { class: "small-group", "aria-hidden": "true" }, "*"),
        ` Fewer than ${view.settings.small_group_threshold} pupils assessed`)));
}

export function heatPanel(view, map, scroller) {
  return h("section", { class: "panel heat-panel", "aria-labelledby": "heat-map-title" },
    h("div", { class: "panel-head" },
      h("h2", { id: "heat-map-title" }, "Heat map"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "heat_map" }), "Heat map CSV"),
        csvLink(ANALYSIS, query({ table: "objectives" }), "Objectives CSV"))),
    h("p", { id: "heat-map-help", class: "hint" }, "Each pupil's current judgement on each objective, with how the "
      + "class stands above each objective. Hover over or focus a cell for its details. The grid is one tab stop: the "
      + "arrow keys move from cell to cell, and left to the pupils' names (Enter opens a profile)."),
    keys(view),
    view.objectives.length ? scroller : h("p", { class: "empty" }, "No objectives to show for these filters."),
    map.tooltip, map.descriptions);
}

export function gapsPanel(view) {
  const byId = new Map(view.objectives.map((o) => [o.objective_id, o]));
  const taught = view.objectives.filter(taughtNotAssessed);
  const below = [...view.gaps.below_target].sort((a, b) => a.percent_secure - b.percent_secure
    || a.code.localeCompare(b.code));
  const target = view.gaps.secure_target_percent;

  const taughtPart = taught.length ? h("div", { class: "table-scroll" }, h("table", { class: "gaps-table" },
    h("caption", { class: "visually-hidden" }, "Objectives taught but not yet assessed for every pupil"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Objective"), h("th", { scope: "col" }, "Taught"),
      h("th", { scope: "col", class: "number nowrap" }, "Not assessed"))),
    h("tbody", {}, taught.map((o) => h("tr", { "data-objective-id": o.objective_id },
      h("th", { scope: "row" }, objectiveLabel(o)),
      h("td", { class: "nowrap" }, o.taught_dates.map(formatDate).join(", ")),
      h("td", { class: "number nowrap" }, `${o.not_assessed} of ${o.assessed + o.not_assessed}`,
        o.assessed === 0 ? h("span", { class: "muted" }, " (none yet)") : null))))))
    : h("p", { class: "empty" }, "None: every objective taught has been assessed for every pupil.");

  const rows = below.map((gap, index) => {
    const objective = byId.get(gap.objective_id) || gap;
    return h("tr", { "data-objective-id": gap.objective_id, class: index >= BELOW_TARGET_SHOWN ? "more" : null,
      hidden: index >= BELOW_TARGET_SHOWN },
    h("th", { scope: "row" }, objectiveLabel(objective)),
    h("td", { class: "number" }, `${gap.secure} of ${gap.assessed}`),
    h("td", { class: "gap-bar" }, objective.counts ? distributionBar(objective.scale, objective.counts, {
      assessed: gap.assessed, percentSecure: percentText(gap.percent_secure), small: gap.small_group })
      : `${percentText(gap.percent_secure)}%`));
  });
  let more = null;
  if (below.length > BELOW_TARGET_SHOWN) {
    more = h("button", { type: "button", class: "show-more", "aria-expanded": "false" },
      `Show all ${below.length}`);
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      for (const row of rows.slice(BELOW_TARGET_SHOWN)) row.hidden = !open;
      more.setAttribute("aria-expanded", String(open));
      more.textContent = open ? `Show the lowest ${BELOW_TARGET_SHOWN}` : `Show all ${below.length}`;
    });
  }
  const belowPart = below.length ? [h("div", { class: "table-scroll" }, h("table", { class: "gaps-table" },
    h("caption", { class: "visually-hidden" }, `Objectives below ${target}% secure, lowest first`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Objective"), h("th", { scope: "col", class: "number" },
      "Secure"), h("th", { scope: "col" }, "Pupils per band, % secure"))),
    h("tbody", {}, rows))), more]
    : h("p", { class: "empty" }, `None: every objective assessed is at least ${target}% secure.`);

  return h("section", { class: "panel gaps-panel", "aria-labelledby": "gaps-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "gaps-title" }, "Gaps"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "gaps" }), "Gaps CSV"))),
    h("div", { class: "gaps-grid" },
      h("div", { class: "gap-list", id: "taught-not-assessed" },
        h("h3", {}, h("span", { class: "key-mark key-tna", "aria-hidden": "true" }, "!"), " Taught, not yet assessed",
          h("span", { class: "count" }, String(taught.length))),
        h("p", { class: "hint" }, "Coverage is not assessment: these were taught, but some pupils have no judgement yet."),
        taughtPart),
      h("div", { class: "gap-list", id: "below-target" },
        h("h3", {}, `Below target (${target}% secure)`, h("span", { class: "count" }, String(below.length))),
        h("p", { class: "hint" }, "Assessed objectives where fewer pupils are secure than the trust's target, lowest "
          + "first."),
        belowPart)));
}

const OBJECTIVES_SHOWN = 4;

/** A group's objectives; beyond the first few, the rest fold away. */
function objectiveList(list) {
  const item = (objective) => h("li", {}, objectiveLabel(objective));
  const shown = list.length > OBJECTIVES_SHOWN + 1 ? list.slice(0, OBJECTIVES_SHOWN) : list;
  const rest = list.slice(shown.length);
  return [h("ul", { class: "group-objectives", "aria-label": "Objectives" }, shown.map(item)),
    rest.length ? h("details", { class: "more-objectives" }, h("summary", {}, `${rest.length} more objectives`),
      h("ul", { class: "group-objectives" }, rest.map(item))) : null];
}

export function groupsPanel(view) {
  const pupils = new Map(view.pupils.map((p) => [p.pupil_id, p]));
  const objectives = new Map(view.objectives.map((o) => [o.objective_id, o]));
  const names = (ids) => ids.map((id) => (pupils.has(id) ? pupilName(pupils.get(id)) : id));
  const running = view.interventions.length ? h("div", { class: "running" },
    h("h3", {}, "Interventions with pupils shown here"),
    h("ul", {}, view.interventions.map((iv) => h("li", {},
      h("a", { href: withAsOf(`/interventions/${encodeURIComponent(iv.intervention_id)}`) }, iv.name ?? "(name erased)"),
      h("span", { class: "muted" }, ` · ${iv.lead ?? "lead erased"} · from ${formatDate(iv.start_date)} · `
        + plural(iv.pupil_ids.length, "pupil")))))) : null;
  const cards = view.suggested_groups.map((group, index) => {
    const actions = h("div", { class: "group-actions" });
    const card = h("article", { class: "group-card", "aria-labelledby": `group-${index}-title`,
      "data-group-index": index },
    h("h3", { id: `group-${index}-title` }, `Group ${index + 1}`,
      h("span", { class: "muted" }, ` · ${plural(group.size, "pupil")}`)),
    objectiveList(group.objectives.map((brief) => objectives.get(brief.objective_id) || { ...brief, text: "" })),
    h("p", { class: "group-pupils" }, h("span", { class: "label" }, "Pupils: "), names(group.pupil_ids).join(", ")),
    group.also_consider.length ? h("p", { class: "group-also" }, h("span", { class: "label" }, "Also consider: "),
      names(group.also_consider).join(", ")) : null,
    actions);
    if (asOf()) {
      actions.append(h("button", { type: "button", disabled: true }, "Start intervention"),
        h("span", { class: "hint" }, " Back to today to start one."));
    } else {
      const button = h("button", { type: "button", class: "start-intervention" }, "Start intervention");
      button.addEventListener("click", () => openStartForm(group, actions, button));
      actions.append(button);
    }
    return card;
  });
  return h("section", { class: "panel groups-panel", "aria-labelledby": "groups-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "groups-title" }, "Suggested groups"),
      h("div", { class: "downloads" }, csvLink(ANALYSIS, query({ table: "suggested_groups" }), "Suggested groups CSV"))),
    h("p", { class: "hint" }, "Pupils not yet secure on the same below-target objectives. Start an intervention to "
      + "work with a group, then follow its impact."),
    running,
    cards.length ? h("div", { class: "group-cards" }, cards)
      : h("p", { class: "empty" }, "No groups to suggest: no two pupils share an objective below target."));
}
