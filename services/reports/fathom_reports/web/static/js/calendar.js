// Assessment calendar: the academic year's assessment points; a trust leader edits and saves them.
import { ApiError, csvLink, getJSON, h, load, mount, send, setCrumbs, setTitle, showProblem, showStatus }
  from "./fathom.js";

const FIELDS = ["name", "point_id", "starts_on", "ends_on"];
const LABELS = { name: "Name", point_id: "Code", starts_on: "From", ends_on: "To" };

/** ``2026-27`` moved by ``step`` years. */
function shiftYear(year, step) {
  const first = Number(year.slice(0, 4)) + step;
  return `${first}-${String((first + 1) % 100).padStart(2, "0")}`;
}

/** A code teachers never need to type: the name in lower case, words joined by "-". */
function codeFor(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
}

function readOnlyTable(points) {
  return h("table", { id: "calendar-points" },
    h("thead", {}, h("tr", {}, ["Assessment point", "From", "To"].map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, points.map((point) => h("tr", { "data-point-id": point.point_id },
      h("th", { scope: "row" }, point.name), h("td", {}, point.starts_on), h("td", {}, point.ends_on)))));
}

function editor(year, points) {
  const body = h("tbody", {});
  const row = (point) => {
    const inputs = FIELDS.map((field) => h("input", {
      name: field, value: point[field] || "", type: field.endsWith("_on") ? "date" : "text",
      "aria-label": LABELS[field], required: true, class: field === "point_id" ? "code" : null }));
    const [name, code] = inputs;
    name.addEventListener("change", () => { if (!code.value) code.value = codeFor(name.value); });
    const remove = h("button", { type: "button", class: "link-button", onclick: () => tr.remove() }, "Remove");
    const tr = h("tr", {}, inputs.map((input) => h("td", {}, input)), h("td", {}, remove));
    return tr;
  };
  body.append(...points.map(row));
  const add = h("button", { type: "button", class: "button", id: "add-point",
    onclick: () => body.append(row({})) }, "Add a point");
  const form = h("form", { id: "calendar-form", class: "panel" },
    h("table", { id: "calendar-points" },
      h("thead", {}, h("tr", {}, FIELDS.map((field) => h("th", { scope: "col" }, LABELS[field])), h("th", {}))),
      body),
    h("p", { class: "actions" }, add, " ", h("button", { type: "submit", class: "button primary" }, "Save calendar")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rows = [...body.querySelectorAll("tr")];
    for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
    const list = rows.map((tr) => Object.fromEntries(FIELDS.map((f) => [f, tr.querySelector(`[name=${f}]`).value])));
    try {
      const answer = await send("PUT", `/v1/calendar/${year}`, { points: list });
      showStatus(`Saved the ${year} calendar.`, "ok");
      location.assign(`/calendar?academic_year=${year}&consistency=${answer.last_sequence}`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      for (const field of Object.keys(error.errors)) {  // points.2.starts_on → the third row's "From"
        const [, index, name] = field.split(".");
        rows[Number(index)]?.querySelector(`[name=${name}]`)?.setAttribute("aria-invalid", "true");
      }
      showProblem(error);
    }
  });
  return form;
}

load(async () => {
  const requested = new URLSearchParams(location.search).get("academic_year");
  const [calendar, directory] = await Promise.all([
    getJSON("/v1/calendar", requested ? { academic_year: requested } : {}), getJSON("/v1/directory")]);
  const year = calendar.academic_year;
  setTitle(`Assessment calendar ${year}`);
  setCrumbs([{ label: "Home", href: "/" }, { label: `Assessment calendar ${year}` }]);
  const years = h("p", { class: "year-switch" },
    h("a", { href: `/calendar?academic_year=${shiftYear(year, -1)}` }, `← ${shiftYear(year, -1)}`), " ",
    h("a", { href: `/calendar?academic_year=${shiftYear(year, 1)}` }, `${shiftYear(year, 1)} →`));
  const note = calendar.default
    ? h("p", { class: "hint", id: "default-note" }, "Your trust has not set this year's assessment points yet: these ",
      "are the six half terms Fathom assumes. Every summative judgement belongs to one of them.")
    : h("p", { class: "hint" }, "Every summative judgement belongs to one of these assessment points.");
  mount("view", years, note,
    directory.settings ? editor(year, calendar.points) : readOnlyTable(calendar.points),
    h("p", {}, csvLink("/v1/calendar", { academic_year: year })));
});
