// Class Analysis's start-an-intervention dialog: a suggested group's pupils and objectives, edited and posted.
import { ApiError, capitalise, h, mount, newKey, send, showStatus } from "./fathom.js";
import { current, listText, objectiveLabel, plural, today } from "./class-analysis-model.js";
import { pupilName } from "./heatmap.js";

// --- starting an intervention -----------------------------------------------------------------

function chooser(legend, ids, labelOf) {
  const included = new Set(ids);
  const items = new Map();
  const count = h("span", { class: "muted" });
  const list = h("ul", { class: "chooser" });
  const error = h("p", { class: "field-error", hidden: true });
  const refreshButtons = () => {
    count.textContent = ` (${included.size} of ${ids.length})`;
    for (const [id, item] of items) item.button.disabled = included.has(id) && included.size === 1;
  };
  for (const id of ids) {
    const label = labelOf(id);
    const button = h("button", { type: "button", class: "toggle", "aria-label": `Remove ${label.text}` }, "Remove");
    const line = h("li", { "data-id": id }, h("span", { class: "chosen" }, label.node), button);
    button.addEventListener("click", () => {
      const keep = !included.has(id);
      if (keep) included.add(id); else included.delete(id);
      line.classList.toggle("removed", !keep);
      button.textContent = keep ? "Remove" : "Add back";
      button.setAttribute("aria-label", `${keep ? "Remove" : "Add back"} ${label.text}`);
      refreshButtons();
    });
    items.set(id, { line, button });
    list.append(line);
  }
  refreshButtons();
  const fieldset = h("fieldset", { class: "chooser-set" }, h("legend", {}, legend, count), list, error);
  return {
    fieldset, error,
    chosen: () => ids.filter((id) => included.has(id)),
    line: (id) => items.get(id)?.line,
  };
}

export function openStartForm(group, actions, button) {
  const pupils = new Map(current.pupils.map((p) => [p.pupil_id, p]));
  const objectives = new Map(current.objectives.map((o) => [o.objective_id, o]));
  const draft = group.start_intervention;
  const codes = draft.objective_ids.map((id) => objectives.get(id)?.code || id);
  const subjects = [...new Set(draft.objective_ids.map((id) => objectives.get(id)?.subject).filter(Boolean))];
  const suggestedName = `${capitalise(listText(subjects)) || "Objective"} catch-up: ${codes.join(", ")}`.slice(0, 200);
  const lead = document.querySelector(".who-name")?.textContent.trim() || "";

  const field = (id, label, input) => {
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    return { node: h("div", { class: "field" }, h("label", { for: id }, label), input, error), input, error };
  };
  const fields = {
    name: field("iv-name", "Name", h("input", { id: "iv-name", name: "name", maxlength: 200, value: suggestedName,
      autocomplete: "off" })),
    lead: field("iv-lead", "Lead", h("input", { id: "iv-lead", name: "lead", maxlength: 200, value: lead,
      autocomplete: "name" })),
    start_date: field("iv-start", "Start date", h("input", { id: "iv-start", name: "start_date", type: "date",
      value: today(), max: today() })),
  };
  const objectivePick = chooser("Objectives", draft.objective_ids, (id) => {
    const objective = objectives.get(id);
    return { text: objective?.code || id, node: objective ? objectiveLabel(objective) : id };
  });
  const pupilPick = chooser("Pupils", draft.pupil_ids, (id) => {
    const name = pupils.has(id) ? pupilName(pupils.get(id)) : id;
    return { text: name, node: name };
  });
  const problem = h("div", { class: "form-problem", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Start intervention");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h("form", { class: "start-form", novalidate: true },
    h("h2", { id: "iv-title" }, "Start an intervention"),
    h("p", { class: "hint" }, "For the pupils not yet secure on these objectives. Remove anyone or anything that "
      + "should not be part of it."),
    problem,
    h("div", { class: "field-row" }, fields.name.node),
    h("div", { class: "field-row two" }, fields.lead.node, fields.start_date.node),
    objectivePick.fieldset, pupilPick.fieldset,
    h("div", { class: "form-actions" }, cancel, submit));
  const dialog = h("dialog", { class: "start-dialog", "aria-labelledby": "iv-title" }, form);
  let started = false;
  let key = null;
  let lastBody = null;

  const clearErrors = () => {
    problem.hidden = true;
    problem.replaceChildren();
    for (const { input, error } of Object.values(fields)) {
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const pick of [objectivePick, pupilPick]) {
      pick.error.hidden = true;
      pick.fieldset.querySelectorAll("li .field-error").forEach((e) => e.remove());
      pick.fieldset.querySelectorAll("li.invalid").forEach((e) => e.classList.remove("invalid"));
    }
  };

  const showErrors = (error, body) => {
    if (!(error instanceof ApiError)) {
      problem.replaceChildren(h("strong", {}, "Could not reach Fathom."), " Check the connection and try again.");
      problem.hidden = false;
      problem.focus();
      return;
    }
    const others = [];
    let first = null;
    for (const [name, messages] of Object.entries(error.errors || {})) {
      const text = messages.join(" ");
      const item = name.match(/^(pupil_ids|objective_ids)\.(\d+)$/);
      if (fields[name]) {
        const { input, error: slot } = fields[name];
        slot.textContent = text;
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
        first ||= input;
      } else if (item) {
        const pick = item[1] === "pupil_ids" ? pupilPick : objectivePick;
        const line = pick.line(body[item[1]][Number(item[2])]);
        if (line) {
          line.classList.add("invalid");
          line.append(h("p", { class: "field-error" }, text));
          first ||= line.querySelector("button");
        } else {
          others.push([name, text]);
        }
      } else if (name === "pupil_ids" || name === "objective_ids") {
        const pick = name === "pupil_ids" ? pupilPick : objectivePick;
        pick.error.textContent = text;
        pick.error.hidden = false;
      } else {
        others.push([name, text]);
      }
    }
    mount(problem, h("strong", {}, error.title), " ", error.detail || "",
      Object.keys(error.errors || {}).length ? " See the messages next to the fields." : "",
      others.length ? h("ul", {}, others.map(([name, text]) => h("li", {}, h("code", {}, name), ": ", text))) : null);
    problem.hidden = false;
    (first || problem).focus();
  };

  problem.tabIndex = -1;
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = {
      name: fields.name.input.value.trim(), lead: fields.lead.input.value.trim(),
      start_date: fields.start_date.input.value, pupil_ids: pupilPick.chosen(), objective_ids: objectivePick.chosen(),
    };
    const json = JSON.stringify(body);
    if (json !== lastBody) { key = newKey(); lastBody = json; }  // the same request retried keeps its key
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const result = await send("POST", "/v1/interventions", body, { idempotencyKey: key });
      started = true;
      dialog.close();
      const href = `/interventions/${encodeURIComponent(result.id)}`
        + (result.last_sequence ? `?consistency=${result.last_sequence}` : "");
      const link = h("a", { href, class: "started-link" }, `Open “${body.name}”`);
      mount(actions, h("p", { class: "started", role: "status" }, h("span", { class: "tick", "aria-hidden": "true" },
        "✓"), " Intervention started with ", plural(body.pupil_ids.length, "pupil"), ". ", link));
      showStatus(`Intervention “${body.name}” started.`, "ok");
      link.focus();
    } catch (error) {
      showErrors(error, body);
    } finally {
      submit.disabled = false;
      submit.textContent = "Start intervention";
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (!started) button.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  fields.name.input.focus();
}
