// New school year: a leader says where each of last year's classes goes, sees exactly what will change (a dry run
// of POST /v1/rollover), then rolls over. Nothing is appended until "Roll over" is pressed.
import { ApiError, h, getJSON, load, mount, newKey, send, setCrumbs, setTitle, showProblem, showStatus }
  from "./fathom.js";

const TRUST_ROLES = ["trust_leader", "platform_admin", "integration"];

/** ``2026-27`` moved by ``step`` years. */
function shiftYear(year, step) {
  const first = Number(year.slice(0, 4)) + step;
  return `${first}-${String((first + 1) % 100).padStart(2, "0")}`;
}

/** Next year's name for a class: its year group's number moved up ("4A" → "5A", "Year 4 Oak" → "Year 5 Oak"). */
function nextName(klass) {
  const year = String(klass.year_group);
  const up = klass.year_group + 1;
  const moved = klass.name.replace(new RegExp(`(^|\\D)${year}(?!\\d)`), (_, before) => `${before}${up}`);
  return moved !== klass.name ? moved : `${klass.name} (Year ${klass.year_group + 1})`;
}

/** An id for a new class of ``school`` named ``name`` in ``year`` (letters, digits, "-", at most 64). */
function newClassId(school, year, name) {
  const slug = name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "class";
  return `${school}-${year}-${slug}`.slice(0, 64);
}

/** The scopes the person may roll over: the whole trust (trust-wide roles), or each of their schools. */
function scopes(directory) {
  const whole = directory.roles.some((role) => TRUST_ROLES.includes(role));
  return [...(whole ? [{ value: "", label: "The whole trust" }] : []),
    ...directory.schools.filter((s) => s.readable).map((s) => ({ value: s.school_id, label: s.name }))];
}

function lastYearClasses(directory, schoolId, fromYear) {
  return directory.schools.filter((s) => !schoolId || s.school_id === schoolId).flatMap((school) =>
    school.classes.filter((c) => c.academic_year === fromYear && !c.closed_on)
      .map((c) => ({ ...c, school_id: school.school_id, school: school.name })));
}

/** One row per class of last year: its pupils go to the class of next year named beside it, or, in the school's
 * top year group, leave (the request's ``leavers: "top_year_group"``). */
function mappingTable(classes) {
  const top = new Map();
  for (const c of classes) top.set(c.school_id, Math.max(top.get(c.school_id) ?? 0, c.year_group));
  const rows = classes.map((c) => {
    const leaves = c.year_group === top.get(c.school_id);
    const next = leaves ? h("span", { class: "muted" }, "Leave the school (top year group)")
      : h("input", { name: "next", value: nextName(c), required: true,
        "aria-label": `Next year's class for ${c.name}` });
    return h("tr", { "data-class-id": c.class_id, "data-school-id": c.school_id, "data-year-group": c.year_group,
      "data-leaves": leaves ? "true" : null },
      h("th", { scope: "row" }, c.name), h("td", {}, c.school), h("td", {}, `Year ${c.year_group}`),
      h("td", { class: "num" }, c.pupils), h("td", {}, next));
  });
  return h("table", { id: "rollover-mapping" },
    h("thead", {}, h("tr", {}, ["Class", "School", "Year", "Pupils", "Next year"]
      .map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows));
}

/** The request the form describes: new classes by (school, name), each old class mapped to one, leavers. */
function request(form, fromYear, schoolId, effectiveOn) {
  const toYear = shiftYear(fromYear, 1);
  const classes = {}, created = new Map();
  for (const tr of form.querySelectorAll("#rollover-mapping tbody tr")) {
    const old = tr.dataset.classId, school = tr.dataset.schoolId;
    if (tr.dataset.leaves) {
      classes[old] = null;
      continue;
    }
    const name = tr.querySelector("[name=next]").value.trim();
    const id = newClassId(school, toYear, name);
    if (!created.has(id)) {
      created.set(id, { class_id: id, school_id: school, name, year_group: Number(tr.dataset.yearGroup) + 1 });
    }
    classes[old] = id;
  }
  return { from_year: fromYear, to_year: toYear, school_id: schoolId || null, classes,
    new_classes: [...created.values()], leavers: "top_year_group", effective_on: effectiveOn || null };
}

function summaryTable(answer, namesById, schoolNames) {
  const name = (id) => namesById.get(id) || id;
  const school = (id) => schoolNames.get(id) || id;
  const byClass = new Map();
  for (const move of answer.pupils_moved) {
    const key = `${move.from_class_id}→${move.to_class_id}`;
    const row = byClass.get(key) || { ...move, pupils: 0 };
    row.pupils += 1;
    byClass.set(key, row);
  }
  const created = new Set(answer.classes_created.map((c) => c.class_id));
  const leavers = new Map();
  for (const leaver of answer.leavers) {
    const row = leavers.get(leaver.class_id) || { ...leaver, pupils: 0 };
    row.pupils += 1;
    leavers.set(leaver.class_id, row);
  }
  const rows = [
    ...[...byClass.values()].map((r) => h("tr", { "data-from": r.from_class_id },
      h("th", { scope: "row" }, name(r.from_class_id)), h("td", {}, school(r.school_id)),
      h("td", {}, `Year ${r.from_year_group}`),
      h("td", {}, name(r.to_class_id), created.has(r.to_class_id) ? h("span", { class: "tag" }, " new") : null),
      h("td", {}, `Year ${r.to_year_group}`), h("td", { class: "num" }, r.pupils))),
    ...[...leavers.values()].map((r) => h("tr", { "data-from": r.class_id, class: "leavers" },
      h("th", { scope: "row" }, name(r.class_id)), h("td", {}, school(r.school_id)),
      h("td", {}, `Year ${r.year_group}`),
      h("td", {}, "Leave the school"), h("td", {}, ""), h("td", { class: "num" }, r.pupils))),
  ];
  const counts = answer.counts;
  return h("section", { class: "panel", id: "rollover-plan" },
    h("h2", {}, answer.dry_run ? "What will change" : "What changed"),
    h("p", { id: "rollover-counts" }, `${counts.classes_created} classes created, `,
      `${counts.pupils_moved} pupils move up, ${counts.leavers} leave, `,
      `${counts.classes_closed} of last year's classes closed (kept read-only).`),
    h("table", { id: "rollover-changes" },
      h("thead", {}, h("tr", {}, ["Last year's class", "School", "Year", "Next year's class", "Year", "Pupils"]
        .map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, rows)),
    answer.classes_closed.length ? h("p", { class: "hint" }, `Every class above closes on ${answer.effective_on}: `,
      "its history stays readable, nothing more is recorded in it.") : null,
    h("details", {}, h("summary", {}, "Every pupil"), h("table", { id: "rollover-pupils" },
      h("thead", {}, h("tr", {}, ["Pupil", "From", "To"].map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, [
        ...answer.pupils_moved.map((m) => h("tr", {},
          h("td", {}, h("a", { href: `/pupils/${encodeURIComponent(m.pupil_id)}` }, m.pupil_id)),
          h("td", {}, `${name(m.from_class_id)} (Year ${m.from_year_group})`),
          h("td", {}, `${name(m.to_class_id)} (Year ${m.to_year_group})`))),
        ...answer.leavers.map((l) => h("tr", {}, h("td", {}, l.pupil_id),
          h("td", {}, `${name(l.class_id)} (Year ${l.year_group})`), h("td", {}, "Leaves")))]))));
}

function markProblems(form, error) {
  for (const field of Object.keys(error.errors || {})) {  // classes.<old id> → that class's row
    const [kind, id] = field.split(".");
    if (kind === "classes") form.querySelector(`tr[data-class-id="${CSS.escape(id)}"] [name=next]`)
      ?.setAttribute("aria-invalid", "true");
  }
}

load(async () => {
  const directory = await getJSON("/v1/directory");
  setTitle("New school year");
  setCrumbs([{ label: "Home", href: "/" }, { label: "New school year" }]);
  if (!directory.rollover) {
    mount("view", h("p", { class: "empty", id: "rollover-refused" },
      "Only trust leaders, and school leaders for their own school, start a new school year."));
    return;
  }
  const open = directory.schools.flatMap((s) => s.classes.filter((c) => !c.closed_on).map((c) => c.academic_year));
  const years = [...new Set(open)].sort();
  if (!years.length) {
    mount("view", h("p", { class: "empty" }, "There are no open classes to roll over."));
    return;
  }
  const namesById = new Map(directory.schools.flatMap((s) => s.classes.map((c) => [c.class_id, c.name])));
  const schoolNames = new Map(directory.schools.map((s) => [s.school_id, s.name]));
  const scope = h("select", { id: "rollover-scope", name: "scope" },
    scopes(directory).map((o) => h("option", { value: o.value }, o.label)));
  const fromYear = h("select", { id: "rollover-from", name: "from_year" },
    years.map((y) => h("option", { value: y, selected: y === years[0] }, `${y} → ${shiftYear(y, 1)}`)));
  const effective = h("input", { type: "date", id: "rollover-effective", name: "effective_on",
    "aria-describedby": "effective-hint" });
  const mapping = h("div", { id: "rollover-mapping-panel" });
  const plan = h("div", { id: "rollover-plan-panel" });
  const preview = h("button", { type: "submit", class: "button", id: "rollover-preview" }, "Show what will change");
  const run = h("button", { type: "button", class: "button primary", id: "rollover-run", hidden: true }, "Roll over");
  const form = h("form", { id: "rollover-form", class: "panel" },
    h("p", { class: "controls" }, h("label", {}, "Roll over ", scope), " ", h("label", {}, "Year ", fromYear), " ",
      h("label", {}, "Takes effect ", effective), " ", h("span", { class: "hint", id: "effective-hint" },
        "(empty: today; not in the future)")),
    h("p", { class: "hint" }, "Each class's pupils move up a year group into the class of next year named beside ",
      "it (classes given the same name are merged into one); the top year group leaves. Last year's classes are ",
      "kept, read-only, with every pupil's history. Nothing changes until you press Roll over."),
    mapping, h("p", { class: "actions" }, preview, " ", run));
  let pending = null;
  const redraw = () => {
    mount(mapping, mappingTable(lastYearClasses(directory, scope.value, fromYear.value)));
    mount(plan);
    run.hidden = true;
    pending = null;
  };
  scope.addEventListener("change", redraw);
  fromYear.addEventListener("change", redraw);
  form.addEventListener("input", () => { run.hidden = true; pending = null; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const body = request(form, fromYear.value, scope.value, effective.value);
    body.new_classes.forEach((c) => namesById.set(c.class_id, c.name));
    try {
      const answer = await send("POST", "/v1/rollover", { ...body, dry_run: true });
      mount(plan, summaryTable(answer, namesById, schoolNames));
      showStatus("Nothing has changed yet: check the table, then press Roll over.", "info");
      pending = { body, key: newKey() };
      run.hidden = false;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      markProblems(form, error);
      showProblem(error);
    }
  });
  run.addEventListener("click", async () => {
    if (!pending) return;
    run.disabled = true;
    try {
      const answer = await send("POST", "/v1/rollover", { ...pending.body, dry_run: false },
        { idempotencyKey: pending.key });
      mount(plan, summaryTable(answer, namesById, schoolNames));
      showStatus(answer.counts.pupils_moved || answer.counts.classes_closed ? "Rolled over." :
        "This roll-over was done already: nothing changed.", "ok");
      run.hidden = true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showProblem(error);
    } finally {
      run.disabled = false;
    }
  });
  mount("view", form, plan);
  redraw();
});
