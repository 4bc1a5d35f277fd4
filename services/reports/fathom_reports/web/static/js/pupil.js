// Pupil profile (/pupils/<id>): who the pupil is, then per subject a timeline of every judgement (by band,
// shaped by source), standardised scores on the same time axis and interventions as spans — with a table
// alternative holding the same facts, corrections and withdrawals included.
import {
  asOf, asOfBanner, bandClass, bandShort, capitalise, csvLink, data, formatDate, getJSON, h, load, mount, setCrumbs,
  setTitle, withAsOf,
} from "./fathom.js";
import { groupChips, keepFiltersInAsOfForm, refusal } from "./drill-common.js";
import { SOURCES, timelineChart, timelineLegend } from "./timeline.js";

const PUPIL_ID = data.pupilId;
const sourceLabel = (source) => (SOURCES[source]?.label || source);

/** The right-hand end of every timeline: the as-of day when viewing the past, else today. */
function today() {
  const moment = asOf();
  if (moment && /^\d{4}-\d{2}-\d{2}/.test(moment)) return moment.slice(0, 10);
  return new Date().toISOString().slice(0, 10);
}

function band(scale, cell) {
  return h("span", { class: bandClass(scale, cell.value), title: cell.label ?? "" }, bandShort(cell.label ?? cell.value));
}

function header(profile, directory) {
  const pupil = profile.pupil;
  const school = directory?.schools.find((s) => s.school_id === pupil.school_id);
  const current = pupil.class_history.find((spell) => spell.class_id === pupil.class_id);
  const className = current?.name || pupil.class_id;
  const chips = groupChips(pupil.groups);
  const facts = [
    h("span", {}, pupil.year_group === 0 ? "Reception" : `Year ${pupil.year_group}`),
    pupil.class_id ? h("span", {}, "Class ", h("a", { href: withAsOf(`/classes/${encodeURIComponent(pupil.class_id)}`),
      class: "class-link", "data-class-id": pupil.class_id }, className)) : h("span", {}, "No current class"),
    h("span", {}, school?.readable ? h("a", { href: withAsOf(`/schools/${encodeURIComponent(pupil.school_id)}?year_group=`
      + pupil.year_group) }, school.name) : school?.name || pupil.school_id),
  ];
  const spells = pupil.class_history.length > 1 ? h("p", { class: "hint" }, "Classes: ", pupil.class_history.map(
    (spell, i) => [i ? "; " : "", `${spell.name || spell.class_id} `
      + (spell.to_date ? `(${formatDate(spell.from_date)} – ${formatDate(spell.to_date)})`
        : `(since ${formatDate(spell.from_date)})`)])) : null;
  return h("section", { class: "panel pupil-header" },
    h("div", { class: "pupil-facts" },
      h("p", { class: "facts" }, facts.map((fact, i) => [i ? h("span", { class: "sep", "aria-hidden": "true" }, "·")
        : null, fact])),
      chips.length ? h("ul", { class: "group-chips", "aria-label": "Groups" }, chips.map((chip) => h("li", {}, chip)))
        : h("p", { class: "hint" }, "In none of the tracked groups."),
      pupil.left_on ? h("p", { class: "left-note" }, `Left on ${formatDate(pupil.left_on)}.`) : null,
      pupil.erased ? h("p", { class: "left-note" }, "Erased from the roster on request: the name is not kept, the "
        + "judgements still count.") : null,
      spells),
    h("div", { class: "pupil-actions" },
      h("a", { class: "button", id: "parent-report-link", href: `/pupils/${encodeURIComponent(PUPIL_ID)}/report` },
        "Report for parents"),
      csvLink(`/v1/pupils/${encodeURIComponent(PUPIL_ID)}`, {}, "Download judgement history (CSV)"),
      profile.summative?.length ? csvLink(`/v1/pupils/${encodeURIComponent(PUPIL_ID)}`, { table: "summative" },
        "Download summative codes (CSV)") : null));
}

function interventionsSection(profile) {
  const codes = new Map(profile.objectives.map((o) => [o.objective_id, o.code]));
  if (!profile.interventions.length) return null;
  return h("section", { class: "panel" }, h("h2", {}, "Interventions"), h("div", { class: "table-scroll" },
    h("table", { class: "interventions-table" },
      h("thead", {}, h("tr", {}, ["Intervention", "Lead", "From", "To", "Objectives", "Outcome"].map((text) =>
        h("th", { scope: "col" }, text)))),
      h("tbody", {}, profile.interventions.map((i) => h("tr", { "data-intervention-id": i.intervention_id },
        h("th", { scope: "row" }, h("a", { href: withAsOf(`/interventions/${encodeURIComponent(i.intervention_id)}`) },
          i.name ?? "(name erased)")),
        h("td", {}, i.lead ?? h("span", { class: "muted" }, "erased")), h("td", {}, formatDate(i.start_date)),
        h("td", {}, i.end_date ? formatDate(i.end_date) : h("span", { class: "muted" }, "ongoing")),
        h("td", {}, i.objective_ids.map((id) => codes.get(id) || id).join(", ")),
        h("td", {}, i.outcome || h("span", { class: "muted" }, "—"))))))));
}

function comparison(subject) {
  if (!subject) return null;
  const teacher = subject.teacher;
  const latest = subject.scores[0];
  return h("div", { class: "comparison" },
    h("p", {}, h("strong", {}, "Teacher judgements: "), teacher.assessed
      ? `${teacher.secure} of ${teacher.assessed} objectives secure (${Number(teacher.percent_secure).toFixed(1)}%)`
        + (teacher.band_label ? `, ${teacher.band_label}` : "") : "none yet", "."),
    h("p", {}, h("strong", {}, "Standardised scores: "), subject.scores.length ? subject.scores.map((sc, i) =>
      [i ? "; " : "", `${sc.score} in ${sc.test}, ${formatDate(sc.taken_on)}`]) : "none",
    latest && subject.test_band_label ? ` (latest: ${subject.test_band_label})` : "", "."),
    subject.moderation_prompt ? h("p", { class: "prompt", role: "note" }, subject.prompt)
      : subject.difference !== null ? h("p", { class: "hint" }, "Test and teacher judgements agree within "
        + `${subject.margin} band${subject.margin === 1 ? "" : "s"}.`) : null);
}

function entryText(objective, entry, auditor) {
  const original = (objective.scale.bands || []).find((b) => b.value === entry.original_value)?.label
    ?? entry.original_value;
  const who = entry.amended_by ? ` by ${entry.amended_by}` : "";
  const why = entry.reason ? `: ${entry.reason}` : "";
  const head = [h("time", { datetime: entry.assessed_on }, formatDate(entry.assessed_on)), " · ",
    sourceLabel(entry.source), " · "];
  let body;
  if (entry.status === "withdrawn") {
    body = [h("del", {}, entry.label ?? entry.value), h("span", { class: "status-tag withdrawn" }, `withdrawn${who}${why}`)];
  } else if (entry.status === "corrected") {
    body = [h("del", {}, original), " → ", h("strong", {}, entry.label ?? entry.value),
      h("span", { class: "status-tag corrected" }, `corrected${who}${why}`)];
  } else {
    body = [entry.label ?? entry.value];
  }
  return h("li", { class: `entry status-${entry.status}`, "data-status": entry.status }, head, body,
    entry.note ? h("span", { class: "muted" }, ` — “${entry.note}”`) : null,
    auditor && entry.recorded_by ? h("span", { class: "muted" }, ` (recorded by ${entry.recorded_by})`) : null);
}

function subjectTable(name, objectives, auditor) {
  const others = objectives.some((o) => Object.keys(o.other_sources).length);
  return h("div", { class: "table-scroll" }, h("table", { class: "timeline-table" },
    h("caption", {}, `${name}: every objective's current judgement and its history (the chart as a table)`),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Objective"), h("th", { scope: "col" }, "Current band"),
      h("th", { scope: "col" }, "Assessed on"), h("th", { scope: "col" }, "Source"),
      others ? h("th", { scope: "col" }, "Self / moderator now") : null,
      h("th", { scope: "col", class: "number" }, "History"), h("th", { scope: "col" }, "What was recorded"))),
    h("tbody", {}, objectives.map((o) => h("tr", { "data-objective-id": o.objective_id, "data-history": o.history.length },
      h("th", { scope: "row", class: "objective" }, h("span", { class: "objective-code" }, o.code), " ",
        h("span", { class: "objective-text" }, o.text),
        auditor ? h("a", { class: "audit-link", href: withAsOf(`/audit/pupils/${encodeURIComponent(PUPIL_ID)}/objectives/`
          + encodeURIComponent(o.objective_id)) }, "audit trail") : null),
      h("td", { class: "current" }, o.current ? [band(o.scale, o.current), " ", o.current.label]
        : h("span", { class: "muted" }, "not assessed")),
      h("td", {}, o.current ? formatDate(o.current.assessed_on) : ""),
      h("td", {}, o.current ? sourceLabel(o.current.source) : ""),
      others ? h("td", {}, Object.entries(o.other_sources).map(([source, cell]) => h("span", { class: "other-source" },
        `${sourceLabel(source)}: `, band(o.scale, cell), ` ${formatDate(cell.assessed_on)}`))) : null,
      h("td", { class: "number history-count" }, o.history.length),
      h("td", {}, o.history.length ? h("ol", { class: "history" }, o.history.map((entry) => entryText(o, entry,
        auditor))) : h("span", { class: "muted" }, o.taught_dates.length
        ? `taught ${o.taught_dates.map(formatDate).join(", ")}; not yet assessed` : "nothing recorded")))))));
}

function chartLabel(name, pupilName, objectives, subject, interventions) {
  const entries = objectives.flatMap((o) => o.history);
  const dates = entries.map((e) => e.assessed_on).sort();
  const corrected = entries.filter((e) => e.status === "corrected").length;
  const withdrawn = entries.filter((e) => e.status === "withdrawn").length;
  const bySource = Object.keys(SOURCES).map((source) => [source, entries.filter((e) => e.source === source).length])
    .filter(([, n]) => n).map(([source, n]) => `${n} ${sourceLabel(source).toLowerCase()}`).join(", ");
  const parts = [`${name} timeline for ${pupilName}: ${entries.length} judgement${entries.length === 1 ? "" : "s"}`
    + (entries.length ? ` (${bySource}) on ${objectives.filter((o) => o.history.length).length} objectives from `
      + `${formatDate(dates[0])} to ${formatDate(dates[dates.length - 1])}` : "")];
  if (corrected || withdrawn) parts.push(`${corrected} corrected, ${withdrawn} withdrawn`);
  if (subject?.teacher.assessed) parts.push(`${subject.teacher.secure} of ${subject.teacher.assessed} objectives `
    + "secure now");
  parts.push(subject?.scores.length ? `standardised score${subject.scores.length === 1 ? "" : "s"} `
    + subject.scores.map((sc) => `${sc.score} on ${formatDate(sc.taken_on)}`).join(", ") : "no standardised scores");
  parts.push(interventions.length ? `intervention${interventions.length === 1 ? "" : "s"}: ` + interventions.map((i) =>
    `${i.name} from ${formatDate(i.start_date)} to ${i.end_date ? formatDate(i.end_date) : "now"}`).join("; ")
    : "no interventions");
  return parts.join("; ") + ". The table below the chart lists every judgement.";
}

function subjectSection(name, subjectId, objectives, subject, profile, auditor) {
  const ids = new Set(objectives.map((o) => o.objective_id));
  const known = new Set(profile.objectives.map((o) => o.objective_id));
  const interventions = profile.interventions.filter((i) => i.objective_ids.some((id) => ids.has(id))
    || !i.objective_ids.some((id) => known.has(id)));
  const pupilName = profile.pupil.name || "this pupil";
  const label = chartLabel(name, pupilName, objectives, subject, interventions);
  const codes = (profile.summative || []).filter((c) => c.subject.toLowerCase() === subjectId.toLowerCase());
  const chart = timelineChart({ subject: subjectId, subjectName: name, objectives, scores: subject?.scores || [],
    interventions, today: today(), label, codes });
  const sources = new Set(objectives.flatMap((o) => o.history.map((e) => e.source)));
  return h("section", { class: "panel subject-panel", "data-subject": subjectId, "aria-labelledby": `subject-${subjectId}` },
    h("h2", { id: `subject-${subjectId}` }, name),
    comparison(subject),
    codes.length ? h("p", { class: "summative-trail", "data-subject": subjectId },
      h("span", { class: "label" }, "Summative codes: "),
      codes.map((c, n) => [n ? " → " : "", h("span", { class: "summative-step", "data-point-id": c.point_id,
        "data-academic-year": c.academic_year }, `${c.point_name || c.point_id} ${c.academic_year} `,
      h("strong", {}, c.code))])) : null,
    h("figure", { class: "timeline-figure" },
      h("div", { class: "timeline-scroll" }, chart),
      h("figcaption", {}, h("ul", { class: "timeline-legend", "aria-label": "Chart key" },
        timelineLegend([...sources]).map(([graphic, text]) => h("li", {}, graphic, text))),
      h("p", { class: "hint" }, "Points are coloured by band; points on the same day and band sit side by side. "
        + "Hover a point to see its objective and light up that objective's other judgements."))),
    subjectTable(name, objectives, auditor));
}

load(async () => {
  keepFiltersInAsOfForm([]);
  setCrumbs([{ label: "Home", href: "/" }, { label: "Pupil" }]);
  const directoryPromise = getJSON("/v1/directory", { as_of: null }).catch(() => null);
  let profile;
  try {
    profile = await getJSON(`/v1/pupils/${encodeURIComponent(PUPIL_ID)}`);
  } catch (error) {
    refusal(error, "pupil");
    return;
  }
  const directory = await directoryPromise;
  const pupil = profile.pupil;
  const name = pupil.name || "Pupil (name erased)";
  setTitle(name);
  const school = directory?.schools.find((s) => s.school_id === pupil.school_id);
  const spell = pupil.class_history.find((s) => s.class_id === pupil.class_id);
  const yearHref = school?.readable ? `/schools/${encodeURIComponent(pupil.school_id)}?year_group=${pupil.year_group}`
    : null;
  setCrumbs([
    directory?.trust_wide ? { label: "Trust", href: `/trust?year_group=${pupil.year_group}` } : { label: "Home", href: "/" },
    { label: school?.name || pupil.school_id, href: school?.readable ? `/schools/${encodeURIComponent(pupil.school_id)}`
      : null },
    { label: pupil.year_group === 0 ? "Reception" : `Year ${pupil.year_group}`, href: yearHref },
    pupil.class_id ? { label: spell?.name || pupil.class_id, href: `/classes/${encodeURIComponent(pupil.class_id)}` }
      : null,
    { label: name },
  ].filter(Boolean));
  const auditor = Boolean(directory?.audit);
  const named = [...profile.objectives.map((o) => o.subject), ...profile.subjects.map((s) => s.subject)];
  const known = new Set(named.map((subject) => subject.toLowerCase()));
  const subjects = [...new Set([...named, ...(profile.summative || []).map((c) => c.subject)
    .filter((subject) => !known.has(subject.toLowerCase()))])].sort();
  mount("view",
    asOfBanner(),
    header(profile, directory),
    interventionsSection(profile),
    subjects.length ? subjects.map((subject) => subjectSection(capitalise(subject), subject,
      profile.objectives.filter((o) => o.subject === subject), profile.subjects.find((s) => s.subject === subject),
      profile, auditor))
      : h("p", { class: "empty" }, "Nothing has been taught, assessed or tested for this pupil yet."));
});
