// Trust and school analysis (/trust, /schools/<id>): per objective the pooled figures and each school's
// (or class's) side by side, every bar linking one level down; a group comparison; CSV of the same table.
// This module reads and paints the page; its model, tables and controls have their own.
import { asOfBanner, getJSON, h, load, mount, setCrumbs, setTitle, showStatus, withAsOf } from "./fathom.js";
import { keepFiltersInAsOfForm, refusal } from "./drill-common.js";
import { keys, summary, toolbar, yearTabs } from "./drilldown-controls.js";
import { analysis, go, LEVEL, queryOf, SCHOOL_ID, state, whenNavigated } from "./drilldown-model.js";
import { compareTable, unitsTable } from "./drilldown-tables.js";
import { groupLabel } from "./pupil-groups.js";

const KEPT = ["year_group", "subject", "group", "source", "view", "compare", "unassessed"];
let directory = null;

// --- the page ---------------------------------------------------------------------------------------------

function yearsOnOffer() {
  if (LEVEL === "trust") {
    const years = new Set(directory.schools.flatMap((s) => s.year_groups));
    return years.size ? [...years].sort((a, b) => a - b) : [1, 2, 3, 4, 5, 6];
  }
  const school = directory.schools.find((s) => s.school_id === SCHOOL_ID);
  return school ? school.year_groups : [];
}

function crumbs(st, schoolName) {
  const year = st.year ? `Year ${st.year}` : "Year group";
  const top = directory?.trust_wide ? { label: "Trust", href: "/trust" + (st.year ? `?year_group=${st.year}` : "") }
    : { label: "Home", href: "/" };
  if (LEVEL === "trust") {
    setCrumbs(directory?.trust_wide ? [{ label: "Trust", href: "/trust" }, { label: year }]
      : [{ label: "Home", href: "/" }, { label: "Trust analysis" }]);
  } else {
    setCrumbs([top, { label: schoolName || SCHOOL_ID, href: `/schools/${encodeURIComponent(SCHOOL_ID)}` },
      { label: year }]);
  }
}

async function render() {
  const focused = document.activeElement?.id;
  const st = state();
  const years = yearsOnOffer();
  if (!st.year) {
    st.year = String(years[0] ?? 1);
    history.replaceState(null, "", location.pathname + "?" + queryOf(st).toString());
  }
  keepFiltersInAsOfForm(KEPT);
  const known = directory.schools.find((s) => s.school_id === SCHOOL_ID);
  crumbs(st, known?.name);
  setTitle(LEVEL === "trust" ? `Trust analysis · Year ${st.year}` : `${known?.name || SCHOOL_ID} · Year ${st.year}`);
  document.getElementById("view").setAttribute("aria-busy", "true");
  let main;
  let other = null;
  try {
    [main, other] = await Promise.all([
      analysis(st.year, st.group, st.source),
      st.view === "compare" ? analysis(st.year, st.compare === "all" ? "" : st.compare, st.source) : null,
    ]);
  } catch (error) {
    const readable = directory.schools.filter((s) => s.readable && s.school_id !== SCHOOL_ID);
    const more = readable.length && error.status === 403 ? h("p", {}, "You can open: ", readable.map((s, i) =>
      [i ? ", " : "", h("a", { href: withAsOf(`/schools/${encodeURIComponent(s.school_id)}`) }, s.name)])) : null;
    if (LEVEL === "trust") refusal(error, "trust analysis", { the: true, more });
    else refusal(error, "school", { more });
    return;
  }
  showStatus("");
  if (LEVEL === "school") {
    crumbs(st, main.school.name);
    setTitle(`${main.school.name || SCHOOL_ID} · Year ${st.year}`);
  }
  const subjects = [...new Set(main.objectives.map((o) => o.subject))].sort();
  const inSubject = main.objectives.filter((o) => !st.subject || o.subject === st.subject);
  const shown = inSubject.filter((o) => st.unassessed || o.pooled.assessed > 0
    || (other && other.objectives.some((x) => x.objective_id === o.objective_id && x.pooled.assessed > 0)));
  const hidden = inSubject.length - shown.length;
  const table = !shown.length ? h("p", { class: "empty" }, inSubject.length
    ? "No pupil has been assessed on these objectives yet." : "No objectives for this year group and subject.")
    : h("div", { class: "table-scroll" }, st.view === "compare"
      ? compareTable(main, other, shown, st) : unitsTable(main, shown, st));
  mount("view",
    asOfBanner(),
    yearTabs(years.length ? years : [Number(st.year)], st),
    toolbar(st, subjects, main),
    summary(main, st),
    st.view === "compare" ? h("p", { class: "hint compare-note" }, compareNote(st, main, other)) : null,
    keys(shown, main.settings),
    table,
    hidden ? h("p", { class: "hint hidden-note" }, `${hidden} objective${hidden === 1 ? "" : "s"} no pupil has been `
      + "assessed on yet ", hidden === 1 ? "is" : "are", " hidden. ",
    h("button", { type: "button", id: "show-unassessed", class: "link", onclick: () => go({ unassessed: true }) }, "Show them")) : null);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function compareNote(st, main, other) {
  const groupName = groupLabel(st.group);
  if (st.compare === "all") {
    return `${groupName} (${main.pupils} pupils) beside the whole year group (${other.pupils} pupils), which `
      + "includes the group itself: there is no “not in this group” filter for it, so the figures are shown as "
      + "they are rather than estimated.";
  }
  return `${groupName} (${main.pupils} pupils) beside ${groupLabel(st.compare).toLowerCase()} `
    + `(${other.pupils} pupils). Differences are left out where either side is a small group.`;
}

whenNavigated(render);
window.addEventListener("popstate", () => load(render));

load(async () => {
  directory = await getJSON("/v1/directory", { as_of: null });
  await render();
});
