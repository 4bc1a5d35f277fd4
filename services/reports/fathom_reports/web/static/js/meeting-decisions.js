// A meeting's decisions: the previous meeting's with what has happened since (their review, an intervention's
// impact, the named pupils' codes then and now) and a form to review each; this meeting's, and a form to record one.
// The leaders' list (decisions.js) draws each decision with ``decisionItem`` too.
import { ApiError, formatDate, getJSON, h, mount, newKey, send, showProblem, showStatus } from "./fathom.js";

export const KINDS = { teaching_change: "Teaching change", intervention_started: "Intervention started",
  professional_learning: "Professional learning", pupil_to_watch: "Pupil to watch" };
const OUTCOMES = { done: "Done", continue: "Continue", dropped: "Dropped" };
const STATUS = { open: "Open", overdue: "Overdue for review", reviewed: "Reviewed" };

/** One decision: kind, what, owner, review point and status (never colour alone), pupils, its review if any. */
export function decisionItem(decision, { names = new Map(), extra = null } = {}) {
  const review = decision.review;
  const pupils = decision.pupil_ids.map((id) => names.get(id) || id);
  return h("li", { class: `decision status-${decision.status}`, "data-decision-id": decision.decision_id,
    "data-status": decision.status },
  h("p", { class: "decision-head" }, h("strong", { class: "decision-kind" }, KINDS[decision.kind] || decision.kind),
    " · ", h("span", { class: `decision-status status-${decision.status}` }, STATUS[decision.status]),
    h("span", { class: "muted" }, ` · owner ${decision.owner ?? "(erased)"} · review at `
      + `${decision.review_point.name || decision.review_point.point_id} ${decision.review_point.academic_year}`)),
  h("p", { class: "decision-text" }, decision.text ?? "(text erased)"),
  pupils.length ? h("p", { class: "decision-pupils" }, h("span", { class: "label" }, "Pupils: "), pupils.join(", "))
    : null,
  decision.intervention_id ? h("p", {}, h("a", { href: `/interventions/${encodeURIComponent(decision.intervention_id)}` },
    "The intervention")) : null,
  review ? h("p", { class: "decision-review" }, h("span", { class: "label" }, "Reviewed: "),
    OUTCOMES[review.outcome] || review.outcome, review.note ? ` — ${review.note}` : "",
    h("span", { class: "muted" }, ` (${formatDate(review.reviewed_at.slice(0, 10))})`)) : null,
  extra);
}

/** What has happened since for a decision: the named pupils' codes then → now, an intervention's impact. */
function since(decision, codes) {
  const moves = decision.pupil_ids.filter((id) => codes.has(id)).map((id) => {
    const pupil = codes.get(id);
    return `${pupil.name || id}: ${pupil.previous_code || "–"} → ${pupil.code || "–"}`;
  });
  if (!moves.length && !decision.intervention_id) return null;
  const impact = h("span", { class: "impact" });
  if (decision.intervention_id) {
    getJSON(`/v1/interventions/${encodeURIComponent(decision.intervention_id)}`).then((answer) => {
      const s = answer.summary;
      mount(impact, `Impact: secure ${s.secure_before} → ${s.secure_after} of ${s.pairs} pupil × objective pairs, `
        + `${s.moved_to_secure} moved to secure`, s.small_group ? " (small group)" : "");
    }, () => mount(impact, "Impact: not readable here."));
  }
  return h("div", { class: "since" }, h("span", { class: "label" }, "Since: "),
    moves.length ? `codes ${moves.join("; ")}. ` : null, impact);
}

function reviewForm(decision, reload) {
  const outcome = h("select", { name: "outcome", "aria-label": "Outcome" },
    Object.entries(OUTCOMES).map(([value, label]) => h("option", { value }, label)));
  const note = h("input", { name: "note", type: "text", "aria-label": "What happened since", placeholder: "What happened since" });
  const form = h("form", { class: "review-form" }, outcome, " ", note, " ",
    h("button", { type: "submit", class: "button" }, "Record review"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await send("POST", `/v1/meeting-decisions/${encodeURIComponent(decision.decision_id)}/review`,
        { outcome: outcome.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
      showStatus("Review recorded.", "ok");
      reload(answer.last_sequence);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showProblem(error);
    }
  });
  return form;
}

function pointsFrom(grid) {
  const at = grid.points.findIndex((p) => p.point_id === grid.point.point_id);
  return grid.points.slice(at);
}

function recordForm(grid, directory, base, reload) {
  const later = pointsFrom(grid);
  const kind = h("select", { name: "kind", id: "decision-kind" },
    Object.entries(KINDS).map(([value, label]) => h("option", { value }, label)));
  const text = h("textarea", { name: "text", id: "decision-text", rows: 2, required: true });
  const owner = h("input", { name: "owner", id: "decision-owner", type: "text", value: directory.sub, required: true });
  const review = h("select", { name: "review_point_id", id: "decision-review-point" },
    later.map((p, index) => h("option", { value: p.point_id, selected: index === Math.min(1, later.length - 1) }, p.name)));
  const intervention = h("input", { name: "intervention_id", id: "decision-intervention", type: "text",
    list: "class-interventions", placeholder: "Start it from a suggested group below, then name it here" });
  const pupils = h("select", { name: "pupil_ids", id: "decision-pupils", multiple: true, size: 6 },
    grid.pupils.map((p) => h("option", { value: p.pupil_id }, p.name || p.pupil_id)));
  const field = (label, control, id) => h("div", { class: "field" }, h("label", { for: id }, label), control);
  const form = h("form", { id: "decision-form", class: "decision-form" },
    h("h3", {}, "Record a decision"),
    field("Kind", kind, "decision-kind"), field("What was decided", text, "decision-text"),
    field("Owner", owner, "decision-owner"), field("Review at", review, "decision-review-point"),
    field("Pupils (optional)", pupils, "decision-pupils"),
    field("Intervention (for an intervention started)", intervention, "decision-intervention"),
    h("p", { class: "actions" }, h("button", { type: "submit", class: "button primary" }, "Record decision")));
  const key = { value: newKey() };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { kind: kind.value, text: text.value, owner: owner.value.trim(), review_point_id: review.value,
      review_academic_year: grid.point.academic_year,
      pupil_ids: [...pupils.selectedOptions].map((option) => option.value) };
    if (intervention.value.trim()) body.intervention_id = intervention.value.trim();
    try {
      const answer = await send("POST", `${base}/meetings/${grid.point.academic_year}/`
        + `${grid.point.point_id}/decisions`, body, { idempotencyKey: key.value });
      key.value = newKey();
      showStatus("Decision recorded.", "ok");
      reload(answer.last_sequence);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      for (const name of Object.keys(error.errors || {})) form.querySelector(`[name=${name}]`)?.setAttribute("aria-invalid", "true");
      showProblem(error);
    }
  });
  return form;
}

/** Paint the meeting's decisions into ``holder`` and repaint after each record or review. */
export function meetingDecisions(holder, { grid, meeting, directory, base }) {
  const codes = new Map(grid.pupils.map((p) => [p.pupil_id, p]));
  const names = new Map(grid.pupils.map((p) => [p.pupil_id, p.name || p.pupil_id]));
  const assesses = directory.assesses !== false;
  const reload = async (sequence) => {
    const fresh = await getJSON(`${base}/meetings/${grid.point.academic_year}/${grid.point.point_id}`,
      sequence ? { consistency: `at_least:${sequence}` } : {});
    paint(fresh);
  };
  const withSince = (decision) => decisionItem(decision, { names, extra: [since(decision, codes),
    assesses && decision.status !== "reviewed" ? reviewForm(decision, reload) : null] });
  const paint = (view) => {
    const previous = view.previous_meeting;
    const seen = new Set(previous.decisions.map((d) => d.decision_id));
    const dueToo = view.due_here.filter((d) => !seen.has(d.decision_id));
    mount(holder, h("section", { class: "panel", "aria-labelledby": "previous-title", id: "previous-meeting" },
      h("h2", { id: "previous-title" }, previous.point
        ? `Decisions of the previous meeting (${previous.point.name} ${previous.point.academic_year})` : "Previous meeting"),
      previous.decisions.length ? h("ul", { class: "decisions" }, previous.decisions.map(withSince))
        : h("p", { class: "empty" }, "The previous meeting recorded no decisions."),
      dueToo.length ? [h("h3", {}, "Also due for review at this meeting"),
        h("ul", { class: "decisions", id: "due-here" }, dueToo.map(withSince))] : null),
    h("section", { class: "panel", "aria-labelledby": "this-title", id: "this-meeting" },
      h("h2", { id: "this-title" }, `This meeting's decisions (${view.point.name} ${view.academic_year})`),
      view.decisions.length ? h("ul", { class: "decisions", id: "this-decisions" },
        view.decisions.map((d) => decisionItem(d, { names }))) : h("p", { class: "empty", id: "this-decisions" },
        "None recorded yet."),
      assesses ? recordForm(grid, directory, base, reload) : null));
  };
  paint(meeting);
}
