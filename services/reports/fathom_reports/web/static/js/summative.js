// Summative grid (/classes/<id>/summative): a teacher gives each pupil a code for one subject at one assessment
// point, keyboard first, as on the objective grid: type a code (or its place on the scale) and the cursor moves
// down; Delete clears, Ctrl+Z undoes, Ctrl+S saves every pending code as one all-or-nothing batch. Beside each
// pupil: the code at the previous point and the prompt — objectives taught, judged and secure, the latest
// standardised score — which the teacher weighs; nothing here turns the prompt into a code.
import {
  ApiError, csvLink, data, formatDate, getJSON, h, load, mount, newKey, send, setCrumbs, setTitle, showProblem,
  showRefusal, showStatus,
} from "./fathom.js";
import { keyText, pick } from "./summative-codes.js";

const classId = data.classId;
const state = { view: null, pending: new Map(), notes: new Map(), errors: new Map(), undo: [], active: 0, typed: "",
  attempt: null, saving: false };
const ui = {};

function query() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(["academic_year", "point_id", "subject"].map((k) => [k, params.get(k)]).filter(([, v]) => v));
}

async function fetchView(sequence) {
  return getJSON(`/v1/classes/${encodeURIComponent(classId)}/summative`,
    { ...query(), ...(sequence ? { consistency: `at_least:${sequence}` } : {}) });
}

load(async () => {
  let view;
  try {
    view = await fetchView();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      return showRefusal(error, { heading: error.status === 403 ? "403 · Not one of your classes" : "404 · No such class",
        explanation: error.status === 403 ? "Summative codes can only be entered for your own classes."
          : "There is no class with this id in your trust." });
    }
    throw error;
  }
  state.view = view;
  setTitle(`Summative codes · ${view.class_name}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: `Class ${view.class_name}`, href: `/classes/${encodeURIComponent(classId)}` },
    { label: "Summative codes" }]);
  buildPage();
  render();
  window.addEventListener("beforeunload", (event) => {
    if (state.pending.size || state.notes.size) { event.preventDefault(); event.returnValue = ""; }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
    }
  });
});

function go(changes) {
  const params = new URLSearchParams({ academic_year: state.view.point.academic_year, point_id: state.view.point.point_id,
    subject: state.view.subject, ...changes });
  location.assign(`/classes/${encodeURIComponent(classId)}/summative?${params}`);
}

function shiftYear(year, step) {
  const first = Number(year.slice(0, 4)) + step;
  return `${first}-${String((first + 1) % 100).padStart(2, "0")}`;
}

function buildPage() {
  const view = state.view;
  const year = view.point.academic_year;
  // The class's own year and the one before (its baseline); never a later one, where no code of it could be saved.
  const own = view.academic_year || year;
  const years = [...new Set([shiftYear(own, -1), own, year])].sort();
  ui.year = h("select", { id: "summative-year", onchange: () => go({ academic_year: ui.year.value, point_id: "" }) },
    years.map((y) => h("option", { value: y, selected: y === year }, y)));
  ui.point = h("select", { id: "summative-point", onchange: () => go({ point_id: ui.point.value }) },
    view.points.map((p) => h("option", { value: p.point_id, selected: p.point_id === view.point.point_id }, p.name)));
  ui.subject = h("select", { id: "summative-subject", onchange: () => go({ subject: ui.subject.value }) },
    view.subjects.map((s) => h("option", { value: s, selected: s === view.subject }, s)));
  ui.count = h("span", { id: "summative-pending-count", class: "pending-count", "aria-live": "polite" });
  ui.save = h("button", { type: "button", id: "summative-save", class: "primary", onclick: save,
    "aria-keyshortcuts": "Control+S" }, "Save");
  ui.undoButton = h("button", { type: "button", id: "summative-undo", onclick: undo }, "Undo");
  ui.gridHolder = h("div", { class: "table-scroll entry-scroll" });
  const label = (text, control) => h("label", { for: control.id }, text, control);
  const previous = view.previous_point ? `${view.previous_point.name} ${view.previous_point.academic_year}` : "none";
  mount("view",
    h("form", { class: "panel entry-filters toolbar", "aria-label": "Which codes", onsubmit: (e) => e.preventDefault() },
      label("Academic year", ui.year), label("Assessment point", ui.point), label("Subject", ui.subject),
      h("span", { class: "spacer" }),
      csvLink(`/v1/classes/${encodeURIComponent(classId)}/summative`, { academic_year: year,
        point_id: view.point.point_id, subject: view.subject })),
    h("div", { class: "entry-bar", role: "toolbar", "aria-label": "Entry actions", "aria-controls": "summative-grid" },
      h("div", { class: "entry-bar-group" }, ui.count, ui.undoButton, ui.save),
      h("p", { class: "hint", id: "summative-key" }, keyText(view.scale))),
    h("p", { class: "hint" }, `Previous point: ${previous}. The evidence beside each pupil is a prompt: the code is `
      + "your judgement, and a change since the previous point is shown as it is."),
    ui.gridHolder);
}

function codeOf(value) {
  return state.view.scale.find((code) => code.code === value);
}

function codeCell(pupil, r) {
  const pending = state.pending.get(pupil.pupil_id);
  const current = pupil.code ? h("span", { class: "current", title: pupil.label }, pupil.code) : null;
  const cell = h("td", { class: ["entry-cell", "summative-cell", pending ? "has-pending" : null,
    pupil.at_or_above_expected === false && !pending ? "below-expected" : null],
    tabindex: r === state.active ? "0" : "-1", "data-r": r, "data-pupil-id": pupil.pupil_id,
    "aria-invalid": state.errors.has(pupil.pupil_id) ? "true" : null,
    "aria-label": `${pupil.name || pupil.pupil_id}: ${pending ? `${pending} (unsaved)` : pupil.code || "no code"}` },
  current, pending ? h("span", { class: "pending", title: codeOf(pending)?.label }, pending) : null);
  return cell;
}

function promptCell(pupil) {
  const { taught, judged, secure, score } = pupil.prompt;
  return [
    h("td", { class: "prompt" }, `${secure} secure of ${judged} judged · ${taught} taught`),
    h("td", { class: "prompt" }, score ? `${score.score} · ${score.test} (${formatDate(score.taken_on)})` : "—")];
}

function render() {
  const view = state.view;
  const previousName = view.previous_point ? view.previous_point.name : "Previous";
  const rows = view.pupils.map((pupil, r) => h("tr", { "data-pupil-id": pupil.pupil_id },
    h("th", { scope: "row", class: "pupil" }, pupil.name || pupil.pupil_id),
    h("td", { class: ["previous", pupil.moved ? `moved-${pupil.moved}` : null] }, pupil.previous_code || "—"),
    codeCell(pupil, r),
    promptCell(pupil),
    h("td", {}, h("input", { type: "text", class: "note", maxlength: 1000, "aria-label": `Note for ${pupil.name}`,
      value: state.notes.get(pupil.pupil_id) ?? pupil.note ?? "",
      oninput: (event) => { state.notes.set(pupil.pupil_id, event.target.value); renderCounter(); } })),
    h("td", { class: "row-errors" }, (state.errors.get(pupil.pupil_id) || []).join(" "))));
  const table = h("table", { id: "summative-grid", class: "entry-grid summative-grid",
    "aria-label": `${view.subject}, ${view.point.name} ${view.point.academic_year}`, onkeydown: onKey,
    onclick: (event) => { const td = event.target.closest("td.summative-cell"); if (td) focusRow(Number(td.dataset.r)); } },
  h("thead", {}, h("tr", {}, ["Pupil", previousName, view.point.name, "Objectives", "Latest score", "Note", ""]
    .map((text, i) => h("th", { scope: "col", class: i === 0 ? "pupil-head" : null }, text)))),
  h("tbody", {}, rows));
  mount(ui.gridHolder, table);
  renderCounter();
}

function renderCounter() {
  const n = entries().length;
  ui.count.textContent = n ? `${n} unsaved` : "Nothing unsaved";
  ui.count.classList.toggle("has-pending", n > 0);
  ui.save.disabled = !n || state.saving;
  ui.undoButton.disabled = !state.undo.length;
}

function focusRow(r) {
  const count = state.view.pupils.length;
  state.active = Math.max(0, Math.min(count - 1, r));
  state.typed = "";
  for (const cell of ui.gridHolder.querySelectorAll("td.summative-cell")) {
    cell.tabIndex = Number(cell.dataset.r) === state.active ? 0 : -1;
  }
  ui.gridHolder.querySelector(`td.summative-cell[data-r="${state.active}"]`)?.focus();
}

function setCode(r, code) {
  const pupil = state.view.pupils[r];
  state.undo.push({ pupil_id: pupil.pupil_id, before: state.pending.get(pupil.pupil_id) });
  if (code === undefined || code === pupil.code) state.pending.delete(pupil.pupil_id);
  else state.pending.set(pupil.pupil_id, code);
  state.errors.delete(pupil.pupil_id);
  render();
}

function undo() {
  const last = state.undo.pop();
  if (!last) return;
  if (last.before === undefined) state.pending.delete(last.pupil_id);
  else state.pending.set(last.pupil_id, last.before);
  render();
  focusRow(state.active);
}

function onKey(event) {
  if (event.target.matches("input")) return;  // a note being typed
  const r = state.active;
  const ctrl = event.ctrlKey || event.metaKey;
  const key = event.key;
  const handled = () => event.preventDefault();
  if (key === "ArrowDown" || key === "Enter") { handled(); focusRow(r + 1); return; }
  if (key === "ArrowUp") { handled(); focusRow(r - 1); return; }
  if (key === "Home") { handled(); focusRow(0); return; }
  if (key === "End") { handled(); focusRow(state.view.pupils.length - 1); return; }
  if (ctrl && key.toLowerCase() === "z") { handled(); undo(); return; }
  if (ctrl || event.altKey) return;
  if (key === "Delete" || key === "Backspace") { handled(); setCode(r, undefined); focusRow(r); return; }
  if (key.length !== 1 || !/[0-9a-z+-]/i.test(key)) return;
  handled();
  let found = pick(state.view.scale, state.typed + key);
  if (found.none && state.typed) found = pick(state.view.scale, key);  // a fresh start
  if (found.none) {
    state.typed = "";
    showStatus(`“${key}” is no code of the scale: ${keyText(state.view.scale)}.`, "error");
    return;
  }
  if (found.wait) {
    state.typed = /^\d$/.test(key) ? "" : (state.typed + key).slice(-8);
    showStatus(`${found.wait.map((c) => c.code).join(" or ")}: keep typing.`);
    return;
  }
  showStatus("");
  setCode(r, found.code.code);
  focusRow(r + 1);
}

function entries() {
  const list = [];
  for (const pupil of state.view.pupils) {
    const id = pupil.pupil_id;
    const code = state.pending.get(id);
    const note = state.notes.has(id) ? state.notes.get(id) : (pupil.note ?? "");
    const noteChanged = state.notes.has(id) && note !== (pupil.note ?? "");
    if (code === undefined && !(noteChanged && pupil.code)) continue;
    // A new judgement replaces the pupil's current one: it carries the note on, unless the teacher changed it.
    list.push({ pupil_id: id, code: code ?? pupil.code, ...(note ? { note } : {}) });
  }
  return list;
}

async function save() {
  const list = entries();
  if (state.saving || !list.length) return;
  const view = state.view;
  const body = { academic_year: view.point.academic_year, point_id: view.point.point_id, subject: view.subject,
    entries: list };
  const text = JSON.stringify(body);
  const idempotencyKey = state.attempt && state.attempt.body === text ? state.attempt.key : newKey();
  state.attempt = { body: text, key: idempotencyKey };
  state.saving = true;
  renderCounter();
  showStatus(`Saving ${list.length} code${list.length === 1 ? "" : "s"}…`);
  let answer;
  try {
    answer = await send("POST", `/v1/classes/${encodeURIComponent(classId)}/summative`, body, { idempotencyKey });
  } catch (error) {
    state.saving = false;
    if (error instanceof ApiError && error.status < 500) {
      state.attempt = null;
      state.errors.clear();
      for (const [field, messages] of Object.entries(error.errors || {})) {
        const match = /^entries\.(\d+)\.\w+$/.exec(field);
        if (match) state.errors.set(list[Number(match[1])].pupil_id, [messages].flat());
      }
      render();
      showProblem(error);
    } else {
      renderCounter();
      showStatus("Not saved: the server did not answer. Your codes are kept; press Save again to retry "
        + "(the same batch is never recorded twice).", "error");
    }
    return;
  }
  state.saving = false;
  state.attempt = null;
  state.pending.clear();
  state.notes.clear();
  state.errors.clear();
  state.undo = [];
  state.view = await fetchView(answer.last_sequence);
  render();
  showStatus(`Saved ${list.length} code${list.length === 1 ? "" : "s"}.`, "ok");
}
