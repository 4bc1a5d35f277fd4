// The Class Analysis heat map: pupils down, objectives across (grouped by subject and strand), a
// distribution bar above every objective, one keyboard tab stop (roving tabindex, arrow keys move)
// and a details tooltip for the hovered or focused cell, with the judgement's note fetched lazily
// from the pupil's profile.
import { bandClass, bandShort, capitalise, distributionBar, formatDate, getJSON, h, withAsOf } from "./fathom.js";

export const SOURCE_LABELS = { teacher: "Teacher", self: "Pupil self-assessment", moderator: "Moderator" };

/** Taught to the class and some pupils shown are not assessed on it yet. */
export function taughtNotAssessed(objective) {
  return Boolean(objective.taught) && objective.not_assessed > 0;
}

export function pupilName(pupil) {
  return pupil.erased ? "Pupil (details erased)" : pupil.name || pupil.pupil_id;
}

/** Objectives grouped by subject, then strand, keeping the API's order within each: [{subject, strands: [{strand, objectives}]}]. */
export function groupObjectives(objectives) {
  const subjects = new Map();
  for (const objective of objectives) {
    const subject = objective.subject || "other";
    const strand = objective.strand || "general";
    if (!subjects.has(subject)) subjects.set(subject, new Map());
    const strands = subjects.get(subject);
    if (!strands.has(strand)) strands.set(strand, []);
    strands.get(strand).push(objective);
  }
  return [...subjects.entries()].map(([subject, strands]) => ({
    subject, strands: [...strands.entries()].map(([strand, list]) => ({ strand, objectives: list })),
  }));
}

/** "NN.N%" — one decimal always, so the columns line up. */
export function percentText(value) {
  return value === null || value === undefined ? null : Number(value).toFixed(1);
}

// --- pupil profiles (for notes), fetched once per pupil -------------------------------------
const profiles = new Map();

/** A pupil's profile (``GET /v1/pupils/<id>``), read once per page. */
export function profile(pupilId) {
  if (!profiles.has(pupilId)) {
    const promise = getJSON(`/v1/pupils/${encodeURIComponent(pupilId)}`);
    promise.catch(() => profiles.delete(pupilId));  // a failure may be retried on the next focus
    profiles.set(pupilId, promise);
  }
  return profiles.get(pupilId);
}

/** The note of the judgement behind ``cell`` in the pupil's profile (null when it has none). */
export function noteOf(pupilProfile, objectiveId, cell) {
  const objective = (pupilProfile.objectives || []).find((o) => o.objective_id === objectiveId);
  if (!objective) return null;
  const live = (objective.history || []).filter((j) => j.status !== "withdrawn" && j.source === cell.source);
  const exact = live.filter((j) => j.assessed_on === cell.assessed_on && j.value === cell.value);
  const judgement = (exact.length ? exact : live).at(-1);
  return judgement ? judgement.note || null : null;
}

// --- the table ------------------------------------------------------------------------------
let follow = null;  // keeps the shown tooltip next to its cell while the page scrolls
window.addEventListener("scroll", () => follow?.(), { passive: true });
window.addEventListener("resize", () => follow?.(), { passive: true });

/**
 * Build the heat map for a Class Analysis view. Returns {table, tooltip, descriptions, layout()}:
 * ``layout()`` must run once the table is in the document (it pins the header rows).
 */
export function heatMap(view) {
  const groups = groupObjectives(view.objectives);
  const columns = groups.flatMap((g) => g.strands.flatMap((s) => s.objectives));
  const pupils = view.pupils;
  const cellsByPupil = new Map(view.heat_map.map((row) => [row.pupil_id, row.cells]));
  const subjectStart = new Set(groups.map((g) => g.strands[0].objectives[0].objective_id));
  const strandStart = new Set(groups.flatMap((g) => g.strands.map((s) => s.objectives[0].objective_id)));
  const edge = (objective) => subjectStart.has(objective.objective_id) ? "subject-start"
    : strandStart.has(objective.objective_id) ? "strand-start" : null;

  // Header: subjects, strands, distribution bars, objective codes.
  const descriptions = h("div", { hidden: true });
  const subjectRow = h("tr", { class: "subject-row" },
    h("th", { scope: "col", rowspan: 4, class: "corner" }, h("span", { class: "corner-label" }, "Pupil"),
      h("span", { class: "corner-count" }, `${pupils.length} pupil${pupils.length === 1 ? "" : "s"}`)));
  const strandRow = h("tr", { class: "strand-row" });
  const barRow = h("tr", { class: "bar-row" });
  const codeRow = h("tr", { class: "code-row" });
  for (const group of groups) {
    const count = group.strands.reduce((sum, s) => sum + s.objectives.length, 0);
    subjectRow.append(h("th", { scope: "colgroup", colspan: count, class: "group subject-start" },
      h("span", { class: "group-label" }, capitalise(group.subject))));
    for (const strand of group.strands) {
      strandRow.append(h("th", { scope: "colgroup", colspan: strand.objectives.length,
        class: ["group", edge(strand.objectives[0])], title: capitalise(strand.strand) },
      h("span", { class: "group-label" }, capitalise(strand.strand))));
    }
  }
  columns.forEach((objective, index) => {
    const id = objective.objective_id;
    const flagged = taughtNotAssessed(objective);
    const percent = percentText(objective.percent_secure);
    const bar = distributionBar(objective.scale, objective.counts, {
      assessed: objective.assessed, notAssessed: objective.not_assessed, percentSecure: percent,
      small: objective.small_group,
    });
    if (percent === null) bar.append(h("span", { class: "no-secure" }, "–"));
    barRow.append(h("td", { class: ["column-bar", edge(objective)], "data-objective-id": id }, bar));
    const describe = [objective.text];
    if (objective.retired) describe.push("Retired objective.");
    if (objective.taught_dates?.length) describe.push(`Taught ${objective.taught_dates.map(formatDate).join(", ")}.`);
    if (flagged) describe.push(`Taught but not yet assessed for ${objective.not_assessed} `
      + `pupil${objective.not_assessed === 1 ? "" : "s"}.`);
    const descriptionId = `objective-description-${index}`;
    descriptions.append(h("span", { id: descriptionId }, describe.join(" ")));
    codeRow.append(h("th", {
      scope: "col", class: ["objective", edge(objective), flagged && "taught-not-assessed",
        objective.retired && "retired"],
      "data-objective-id": id, title: describe.join(" "), "aria-describedby": descriptionId,
    }, h("span", { class: "code" }, objective.code)));
  });
  const thead = h("thead", {}, subjectRow, strandRow, barRow, codeRow);

  // Body: one row per pupil, built off-document.
  const positions = new WeakMap();  // element → [row, column]; column 0 is the pupil's name link
  const grid = [];
  const body = document.createDocumentFragment();
  const columnFlags = columns.map((o) => [edge(o), taughtNotAssessed(o)]);
  pupils.forEach((pupil, r) => {
    const cells = cellsByPupil.get(pupil.pupil_id) || {};
    const link = h("a", { href: withAsOf(`/pupils/${encodeURIComponent(pupil.pupil_id)}`), tabindex: "-1" },
      pupilName(pupil));
    positions.set(link, [r, 0]);
    const line = [link];
    const row = h("tr", { "data-pupil-id": pupil.pupil_id }, h("th", { scope: "row", class: "pupil" }, link));
    columns.forEach((objective, c) => {
      const cell = cells[objective.objective_id];
      const [edgeClass, flagged] = columnFlags[c];
      const td = document.createElement("td");
      td.className = ["cell", cell ? bandClass(objective.scale, cell.value) : "band-none", edgeClass,
        !cell && flagged ? "awaiting" : null].filter(Boolean).join(" ");
      td.dataset.pupilId = pupil.pupil_id;
      td.dataset.objectiveId = objective.objective_id;
      td.dataset.value = cell ? String(cell.value) : "";
      td.tabIndex = -1;
      if (cell) td.textContent = bandShort(cell.label);
      positions.set(td, [r, c + 1]);
      line.push(td);
      row.append(td);
    });
    grid.push(line);
    body.append(row);
  });
  const tbody = h("tbody", {});
  tbody.append(body);
  if (!pupils.length) {
    tbody.append(h("tr", {}, h("td", { colspan: columns.length + 1, class: "empty no-rows" },
      "No pupils to show for these filters.")));
  }

  const table = h("table", { class: "heat-map", role: "grid", "aria-labelledby": "heat-map-title",
    "aria-describedby": "heat-map-help", "aria-rowcount": pupils.length + 4 }, thead, tbody);
  const tooltip = h("div", { class: "cell-details", id: "cell-details", role: "tooltip", hidden: true });

  // --- roving tabindex ---
  let active = grid[0]?.[1] || grid[0]?.[0] || null;
  if (active) active.tabIndex = 0;
  const moveTo = (element) => {
    if (!element) return;
    if (active && active !== element) active.tabIndex = -1;
    active = element;
    element.tabIndex = 0;
    element.focus();
  };
  tbody.addEventListener("keydown", (event) => {
    const at = positions.get(event.target);
    if (!at) return;
    let [r, c] = at;
    const last = grid[r].length - 1;
    switch (event.key) {
      case "ArrowRight": c = Math.min(c + 1, last); break;
      case "ArrowLeft": c = Math.max(c - 1, 0); break;
      case "ArrowDown": r = Math.min(r + 1, grid.length - 1); break;
      case "ArrowUp": r = Math.max(r - 1, 0); break;
      case "PageDown": r = Math.min(r + 5, grid.length - 1); break;
      case "PageUp": r = Math.max(r - 5, 0); break;
      case "Home": if (event.ctrlKey) r = 0; c = Math.min(1, last); break;
      case "End": if (event.ctrlKey) r = grid.length - 1; c = last; break;
      case "Escape": hide(); return;
      default: return;
    }
    event.preventDefault();
    moveTo(grid[r][Math.min(c, grid[r].length - 1)]);
  });

  // --- details tooltip ---
  const pupilsById = new Map(pupils.map((p) => [p.pupil_id, p]));
  const objectivesById = new Map(columns.map((o) => [o.objective_id, o]));
  let shown = null;  // the cell whose details are shown
  const notes = new Map();  // "pupil|objective" → note text, or "" when none; undefined while loading

  function render(td) {
    const pupil = pupilsById.get(td.dataset.pupilId);
    const objective = objectivesById.get(td.dataset.objectiveId);
    const cell = (cellsByPupil.get(td.dataset.pupilId) || {})[td.dataset.objectiveId];
    const rows = [];
    if (cell) {
      const key = `${td.dataset.pupilId}|${td.dataset.objectiveId}`;
      const note = notes.get(key);
      rows.push(["Judgement", h("span", {}, h("span", { class: `swatch ${bandClass(objective.scale, cell.value)}` },
        bandShort(cell.label)), " ", cell.label,
        cell.secure && !/secure/i.test(cell.label) ? " (secure)" : "")]);
      rows.push(["Assessed", formatDate(cell.assessed_on)]);
      rows.push(["Source", SOURCE_LABELS[cell.source] || capitalise(cell.source)]);
      rows.push(["Note", note === undefined ? h("span", { class: "muted" }, "Loading…")
        : note === null ? h("span", { class: "muted" }, "Could not load the note")
          : note || h("span", { class: "muted" }, "No note")]);
    } else {
      rows.push(["Judgement", h("span", { class: "muted" }, "Not yet assessed")]);
      if (taughtNotAssessed(objective)) {
        rows.push(["Taught", objective.taught_dates.map(formatDate).join(", ")]);
      }
    }
    tooltip.replaceChildren(
      h("p", { class: "details-title" }, h("strong", {}, pupilName(pupil))),
      h("p", { class: "details-objective" }, h("span", { class: "code" }, objective.code), " ", objective.text),
      h("dl", {}, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])));
  }

  function place(td) {
    const rect = td.getBoundingClientRect();
    tooltip.style.left = "0px";
    tooltip.style.top = "0px";
    const box = tooltip.getBoundingClientRect();
    const margin = 8;
    let left = rect.left;
    let top = rect.bottom + 6;
    if (top + box.height > window.innerHeight - margin) top = rect.top - box.height - 6;
    left = Math.max(margin, Math.min(left, window.innerWidth - box.width - margin));
    top = Math.max(margin, top);
    tooltip.style.left = `${Math.round(left)}px`;
    tooltip.style.top = `${Math.round(top)}px`;
  }

  function show(td) {
    if (shown && shown !== td) shown.removeAttribute("aria-describedby");
    shown = td;
    td.setAttribute("aria-describedby", "cell-details");
    render(td);
    tooltip.hidden = false;
    place(td);
  }

  function hide() {
    if (shown) shown.removeAttribute("aria-describedby");
    shown = null;
    tooltip.hidden = true;
  }

  function loadNote(td) {
    const pupilId = td.dataset.pupilId;
    const objectiveId = td.dataset.objectiveId;
    const key = `${pupilId}|${objectiveId}`;
    const cell = (cellsByPupil.get(pupilId) || {})[objectiveId];
    if (!cell || (notes.has(key) && notes.get(key) !== null)) return;
    notes.delete(key);
    profile(pupilId).then((answer) => {
      for (const objective of answer.objectives || []) {  // every note of this pupil, at once
        const judged = (cellsByPupil.get(pupilId) || {})[objective.objective_id];
        if (judged) notes.set(`${pupilId}|${objective.objective_id}`, noteOf(answer, objective.objective_id, judged) || "");
      }
      if (!notes.has(key)) notes.set(key, "");
    }, () => notes.set(key, null)).then(() => {
      if (shown && shown.dataset.pupilId === pupilId) { render(shown); place(shown); }
    });
  }

  tbody.addEventListener("focusin", (event) => {
    const at = positions.get(event.target);
    if (!at) return;
    if (active !== event.target) {
      if (active) active.tabIndex = -1;
      active = event.target;
      active.tabIndex = 0;
    }
    if (event.target.classList.contains("cell")) {
      show(event.target);
      loadNote(event.target);
    } else {
      hide();
    }
  });
  tbody.addEventListener("focusout", (event) => {
    if (!tbody.contains(event.relatedTarget)) hide();
  });
  let hoverTimer = null;
  tbody.addEventListener("mouseover", (event) => {
    const td = event.target.closest?.("td.cell");
    if (!td || td === shown) return;
    show(td);
    clearTimeout(hoverTimer);
    hoverTimer = setTimeout(() => { if (shown === td) loadNote(td); }, 350);
  });
  tbody.addEventListener("mouseleave", () => {
    clearTimeout(hoverTimer);
    const focused = document.activeElement;
    if (focused && focused.classList.contains("cell") && tbody.contains(focused)) show(focused);
    else hide();
  });

  function layout(scroller) {
    // Keep focused cells clear of the pinned header block and first column.
    const top = thead.getBoundingClientRect().height;
    const firstColumn = thead.rows[0].cells[0].getBoundingClientRect().width;
    scroller.style.scrollPaddingTop = `${Math.ceil(top)}px`;
    scroller.style.scrollPaddingLeft = `${Math.ceil(firstColumn)}px`;
    table.style.setProperty("--first-column", `${Math.ceil(firstColumn)}px`);
    if (!scroller.dataset.followsTooltip) {
      scroller.dataset.followsTooltip = "1";
      scroller.addEventListener("scroll", () => { if (!tooltip.hidden && shown) place(shown); }, { passive: true });
      // The header changes height when the window (or the text size) does: measure again.
      if (window.ResizeObserver) new ResizeObserver(() => layout(scroller)).observe(thead);
    }
  }
  follow = () => { if (!tooltip.hidden && shown && shown.isConnected) place(shown); };

  return { table, tooltip, descriptions, layout, columns };
}
