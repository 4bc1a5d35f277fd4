// Class Analysis's filters: subject, pupil group and source; a change re-reads the analysis and keeps the URL.
import { capitalise, h, mount, showProblem } from "./fathom.js";
import { known, query, state } from "./class-analysis-model.js";
import { SOURCE_LABELS } from "./heatmap.js";
import { GROUP_SECTIONS, GROUPS } from "./pupil-groups.js";

export let filtersBuilt = false;

// --- filters ----------------------------------------------------------------------------------

const subjectSelect = h("select", { id: "filter-subject", name: "subject" });

const groupSelect = h("select", { id: "filter-group", name: "group" });
const sourceSelect = h("select", { id: "filter-source", name: "source" },
  Object.entries(SOURCE_LABELS).map(([value, label]) => h("option", { value }, label)));

/** Draw the filters once; a change re-reads the analysis with ``reread``. */
export function buildFilters(reread) {
  filtersBuilt = true;
  const changed = () => {
    state.subject = subjectSelect.value;
    state.group = groupSelect.value;
    state.source = sourceSelect.value;
    const params = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries({ subject: state.subject, group: state.group,
      source: state.source === "teacher" ? "" : state.source })) {
      if (value) params.set(key, value); else params.delete(key);
    }
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? `?${q}` : ""));
    reread().catch(showProblem);
  };
  for (const select of [subjectSelect, groupSelect, sourceSelect]) select.addEventListener("change", changed);
  mount("filters", h("form", { class: "toolbar filter-bar", "aria-label": "Filters", onsubmit: (e) => e.preventDefault() },
    h("label", { for: "filter-subject" }, "Subject", subjectSelect),
    h("label", { for: "filter-group" }, "Pupil group", groupSelect),
    h("label", { for: "filter-source" }, "Judgements by", sourceSelect)));
  // The "as of" picker reloads the page: keep the filters on it.
  document.querySelector("form.as-of")?.addEventListener("submit", (event) => {
    for (const [key, value] of Object.entries(query())) {
      if (value) event.target.append(h("input", { type: "hidden", name: key, value }));
    }
  });
}

export function fillFilters() {
  const subjects = [...new Set([...known.subjects, state.subject].filter(Boolean))].sort();
  mount(subjectSelect, h("option", { value: "" }, "All subjects"),
    subjects.map((subject) => h("option", { value: subject }, capitalise(subject))));
  subjectSelect.value = state.subject;
  const custom = [...new Set([...known.custom, state.group.startsWith("custom:") ? state.group.slice(7) : null]
    .filter(Boolean))].sort();
  const fixed = new Set(GROUPS.map(([group]) => group));
  mount(groupSelect, h("option", { value: "" }, "All pupils"),
    GROUP_SECTIONS.map(([label, options]) => h("optgroup", { label },
      options.map(([value, text]) => h("option", { value }, text)))),
    custom.length ? h("optgroup", { label: "Trust groups" },
      custom.map((name) => h("option", { value: `custom:${name}` }, capitalise(name)))) : null,
    state.group && !fixed.has(state.group) && !state.group.startsWith("custom:")
      ? h("option", { value: state.group }, state.group) : null);
  groupSelect.value = state.group;
  sourceSelect.value = state.source;
}
