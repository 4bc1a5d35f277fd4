// A pupil's timeline for one subject, hand-built in SVG: judgements as points by band (marker shape by
// source), the summative codes at each assessment point (across academic years) on a strip below them,
// standardised scores on an aligned track below that, interventions as shaded spans, one time axis.
import { bandClass, formatDate, s } from "./fathom.js";

const DAY = 86400000;
const WIDTH = 960;
const LEFT = 138;
const RIGHT = 112;
const ROW = 34;
const LANE = 17;
const SCORE_HEIGHT = 96;
const GAP = 26;
const AXIS = 30;
const CODES_HEIGHT = 30;
const ERASED_NAME = "(name erased)";  // an intervention whose name was erased with a pupil in it
const SPACING = 8;
const PER_LINE = 9;

export const SOURCES = {
  teacher: { label: "Teacher", shape: "circle" },
  self: { label: "Pupil (self-assessment)", shape: "triangle" },
  moderator: { label: "Moderator", shape: "square" },
};
const TEST_BANDS = [[0, 85, "below"], [85, 95, "working towards"], [95, 115, "expected"], [115, 999, "above"]];

const day = (iso) => Date.parse(iso.length === 10 ? iso + "T00:00:00Z" : iso);

/** A marker of ``shape`` centred on (x, y). */
export function marker(shape, x, y, attrs = {}, size = 4.6) {
  if (shape === "triangle") {
    const r = size + 1;
    return s("path", { d: `M${x} ${y - r} L${x + r} ${y + r * 0.8} L${x - r} ${y + r * 0.8} Z`, ...attrs });
  }
  if (shape === "square") {
    return s("rect", { x: x - size, y: y - size, width: size * 2, height: size * 2, ...attrs });
  }
  return s("circle", { cx: x, cy: y, r: size, ...attrs });
}

/** The band step class ("tl-b3") for a value on a scale, from the shared palette. */
function stepClass(scale, value) {
  const match = /band-(\d|none)/.exec(bandClass(scale, value));
  return match ? `tl-b${match[1]}` : "tl-bnone";
}

/** Band rows for the subject's scales: highest value at the top; labels joined where scales differ. */
function bandRows(objectives) {
  const rows = new Map();
  for (const objective of objectives) {
    for (const band of objective.scale.bands || []) {
      if (!rows.has(band.value)) rows.set(band.value, new Set());
      rows.get(band.value).add(band.label);
    }
  }
  for (const objective of objectives) {
    for (const entry of objective.history) if (!rows.has(entry.value)) rows.set(entry.value, new Set([entry.label
      ?? String(entry.value)]));
  }
  return [...rows.entries()].sort((a, b) => b[0] - a[0]).map(([value, labels]) => ({ value,
    label: [...labels].join(" / ") }));
}

function monthTicks(start, end) {
  const ticks = [];
  const first = new Date(start);
  let cursor = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1);
  const months = (end - start) / (30 * DAY);
  const step = months > 30 ? 6 : months > 14 ? 3 : 1;
  while (cursor <= end) {
    const date = new Date(cursor);
    if (date.getUTCMonth() % step === 0) ticks.push(cursor);
    cursor = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }
  return ticks;
}

/** Put overlapping intervention spans in separate label lanes. */
function lanes(spans) {
  const ends = [];
  return spans.map((span) => {
    let lane = ends.findIndex((end) => end < span.x0 - 4);
    if (lane < 0) lane = ends.length;
    ends[lane] = Math.max(span.x0 + span.labelWidth, span.x1);
    return { ...span, lane };
  });
}

/**
 * The chart. ``objectives``: the subject's profile objectives (with ``history``); ``scores``: the subject's
 * standardised scores; ``interventions``: those to shade; ``today``: the right-hand end (ISO date).
 */
export function timelineChart({ subject, subjectName, objectives, scores, interventions, today, label,
  codes = [] }) {
  const entries = objectives.flatMap((objective) => objective.history.map((entry) => ({ objective, entry })));
  const placed = codes.filter((c) => c.ends_on);
  const dates = [...entries.map((e) => day(e.entry.assessed_on)), ...scores.map((sc) => day(sc.taken_on)),
    ...placed.map((c) => day(c.ends_on)),
    ...interventions.flatMap((i) => [day(i.start_date), ...(i.end_date ? [day(i.end_date)] : [])])];
  const now = day(today);
  let start = dates.length ? Math.min(...dates) : now - 90 * DAY;
  let end = Math.max(now, ...dates);
  const pad = Math.max(7 * DAY, (end - start) * 0.04);
  start -= pad;
  end += pad;
  if (end - start < 60 * DAY) start = end - 60 * DAY;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (t) => LEFT + ((t - start) / (end - start)) * plotWidth;

  const spans = lanes(interventions.map((i) => {
    const x0 = x(day(i.start_date));
    const x1 = i.end_date ? x(day(i.end_date)) : x(now);
    return { intervention: i, x0, x1: Math.max(x1, x0 + 2), labelWidth: Math.min(220, 7 * (i.name ?? ERASED_NAME).length + 40) };
  }));
  const laneCount = spans.reduce((n, span) => Math.max(n, span.lane + 1), 0);
  const top = 8 + laneCount * LANE + (laneCount ? 4 : 0);
  const rows = bandRows(objectives);
  const bandTop = top;
  const bandHeight = Math.max(rows.length, 1) * ROW;
  const codesTop = bandTop + bandHeight + (placed.length ? 8 : 0);
  const scoreTop = codesTop + (placed.length ? CODES_HEIGHT : 0) + GAP;
  const scoreBottom = scoreTop + SCORE_HEIGHT;
  const height = scoreBottom + AXIS;
  const rowY = new Map(rows.map((row, i) => [row.value, bandTop + i * ROW + ROW / 2]));

  const svg = s("svg", {
    class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: "img", "aria-label": label,
    "data-subject": subject, preserveAspectRatio: "xMinYMin meet",
  });
  svg.append(s("title", {}, label));

  // Band track: one row per band, labelled with the band names.
  rows.forEach((row, i) => {
    const y = bandTop + i * ROW;
    svg.append(s("rect", { class: ["tl-row", i % 2 ? "odd" : null], x: LEFT, y, width: plotWidth, height: ROW }),
      s("text", { class: "tl-band-label", x: LEFT - 10, y: y + ROW / 2 + 4, "text-anchor": "end" }, row.label));
  });
  svg.append(s("text", { class: "tl-track-label", x: 12, y: bandTop + bandHeight / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${bandTop + bandHeight / 2})` }, "Judgement"));

  // Standardised scores: an aligned track with its own axis and the test bands shaded.
  const values = scores.map((sc) => sc.score);
  const low = Math.min(70, ...values.map((v) => v - 5));
  const high = Math.max(140, ...values.map((v) => v + 5));
  const y = (v) => scoreBottom - ((v - low) / (high - low)) * SCORE_HEIGHT;
  for (const [from, to, name] of TEST_BANDS) {
    const a = Math.max(from, low);
    const b = Math.min(to, high);
    if (b <= a) continue;
    svg.append(s("rect", { class: `tl-test-band tl-test-${name.replace(/ /g, "-")}`, x: LEFT, y: y(b),
      width: plotWidth, height: y(a) - y(b) }),
    s("text", { class: "tl-test-label", x: LEFT + plotWidth + 6, y: (y(a) + y(b)) / 2 + 4 }, name));
  }
  for (const tick of [70, 85, 100, 115, 130].filter((t) => t >= low && t <= high)) {
    svg.append(s("line", { class: ["tl-grid", tick === 100 ? "tl-grid-mid" : null], x1: LEFT, x2: LEFT + plotWidth,
      y1: y(tick), y2: y(tick) }),
    s("text", { class: "tl-score-tick", x: LEFT - 8, y: y(tick) + 4, "text-anchor": "end" }, tick));
  }
  svg.append(s("rect", { class: "tl-frame", x: LEFT, y: scoreTop, width: plotWidth, height: SCORE_HEIGHT }),
    s("text", { class: "tl-track-label", x: LEFT, y: scoreTop - 7 }, "Standardised score"));
  // Interventions: shaded spans behind everything, their names in lanes above.
  for (const span of spans) {
    const i = span.intervention;
    const laneY = 8 + span.lane * LANE;
    const group = s("g", { class: ["tl-intervention", i.end_date ? null : "ongoing"],
      "data-intervention-id": i.intervention_id });
    group.append(
      s("title", {}, `Intervention: ${i.name ?? ERASED_NAME} (${i.lead ?? "lead erased"}), ${formatDate(i.start_date)} to `
        + `${i.end_date ? formatDate(i.end_date) : "now (ongoing)"}`),
      s("rect", { class: "tl-span", x: span.x0, y: laneY, width: span.x1 - span.x0, height: scoreBottom - laneY }),
      s("line", { class: "tl-span-edge", x1: span.x0, x2: span.x0, y1: laneY, y2: scoreBottom }),
      s("text", { class: "tl-span-label", x: span.x0 + 4, y: laneY + 12 },
        (i.name ?? ERASED_NAME) + (i.end_date ? "" : " (ongoing)")));
    svg.append(group);
  }

  // Summative codes: one per assessment point, at the point's end, its code written out (never colour alone).
  if (placed.length) {
    const strip = s("g", { class: "tl-codes" });
    strip.append(s("rect", { class: "tl-frame", x: LEFT, y: codesTop, width: plotWidth, height: CODES_HEIGHT }),
      s("text", { class: "tl-band-label", x: LEFT - 10, y: codesTop + CODES_HEIGHT / 2 + 4, "text-anchor": "end" },
        "Summative"));
    for (const c of placed) {
      const cx = x(day(c.ends_on));
      const mark = s("g", { class: ["summative-code", c.at_or_above_expected === false ? "below-expected" : null],
        "data-academic-year": c.academic_year, "data-point-id": c.point_id, "data-code": c.code });
      mark.append(s("title", {}, `${c.point_name || c.point_id} ${c.academic_year}: ${c.code}`
        + (c.label ? ` (${c.label})` : "") + (c.at_or_above_expected === false ? ", below expected" : "")),
      s("rect", { class: "tl-code-box", x: cx - 17, y: codesTop + 5, width: 34, height: CODES_HEIGHT - 10, rx: 4 }),
      s("text", { class: "tl-code-text", x: cx, y: codesTop + CODES_HEIGHT / 2 + 4, "text-anchor": "middle" }, c.code));
      strip.append(mark);
    }
    svg.append(strip);
  }

  // Judgements: clustered where several fall on the same day and band, so none hides another.
  const clusters = new Map();
  for (const item of entries) {
    const key = `${item.entry.assessed_on}|${item.entry.value}`;
    if (!clusters.has(key)) clusters.set(key, []);
    clusters.get(key).push(item);
  }
  const points = s("g", { class: "tl-points" });
  for (const items of clusters.values()) {
    items.sort((a, b) => a.objective.code.localeCompare(b.objective.code));
    const lines = Math.ceil(items.length / PER_LINE);
    items.forEach(({ objective, entry }, n) => {
      const line = Math.floor(n / PER_LINE);
      const inLine = line < lines - 1 ? PER_LINE : items.length - line * PER_LINE;
      const cx = x(day(entry.assessed_on)) + (n % PER_LINE - (inLine - 1) / 2) * SPACING;
      const cy = rowY.get(entry.value) + (line - (lines - 1) / 2) * Math.min(SPACING, (ROW - 10) / lines);
      const source = SOURCES[entry.source] || { label: entry.source, shape: "circle" };
      const corrected = entry.status === "corrected";
      const originalLabel = corrected ? (objective.scale.bands || []).find((b) => b.value === entry.original_value)
        ?.label ?? entry.original_value : null;
      const point = marker(source.shape, cx, cy, {
        class: ["judgement-point", stepClass(objective.scale, entry.value), `status-${entry.status}`,
          `source-${entry.source}`],
        "data-objective-id": objective.objective_id, "data-judgement-id": entry.judgement_id,
        "data-source": entry.source, "data-status": entry.status, "data-value": entry.value,
      }, entry.source === "teacher" ? 4.3 : 4.8);
      point.append(s("title", {}, `${objective.code} ${objective.text}: ${entry.label ?? entry.value}, `
        + `${formatDate(entry.assessed_on)}, ${source.label.toLowerCase()}`
        + (corrected ? ` (corrected from ${originalLabel}${entry.reason ? `: ${entry.reason}` : ""})` : "")
        + (entry.status === "withdrawn" ? ` (withdrawn${entry.reason ? `: ${entry.reason}` : ""})` : "")));
      points.append(point);
    });
  }
  svg.append(points);

  if (!scores.length) {
    svg.append(s("text", { class: "tl-empty", x: LEFT + plotWidth / 2, y: scoreTop + SCORE_HEIGHT / 2 + 4,
      "text-anchor": "middle" }, "No standardised scores"));
  }
  for (const sc of scores) {
    const cx = x(day(sc.taken_on));
    const cy = y(sc.score);
    const point = s("g", { class: "score-point", "data-score": sc.score, "data-taken-on": sc.taken_on });
    point.append(s("title", {}, `${sc.test}: ${sc.score} on ${formatDate(sc.taken_on)} (${TEST_BANDS[sc.band]?.[2]
      ?? ""})`),
    s("path", { class: "tl-score-marker", d: `M${cx} ${cy - 6} L${cx + 6} ${cy} L${cx} ${cy + 6} L${cx - 6} ${cy} Z` }),
    s("text", { class: "tl-score-value", x: cx, y: cy - 10, "text-anchor": "middle" }, sc.score));
    svg.append(point);
  }

  // Time axis, shared by both tracks; and "today".
  svg.append(s("line", { class: "tl-axis", x1: LEFT, x2: LEFT + plotWidth, y1: scoreBottom, y2: scoreBottom }));
  const ticks = monthTicks(start, end);
  ticks.forEach((tick, n) => {
    const date = new Date(tick);
    const tx = x(tick);
    const showYear = n === 0 || date.getUTCMonth() === 0;
    svg.append(s("line", { class: "tl-month", x1: tx, x2: tx, y1: bandTop, y2: scoreBottom + 4 }),
      s("text", { class: "tl-month-label", x: tx, y: scoreBottom + 18, "text-anchor": "middle" },
        date.toLocaleDateString("en-GB", { month: "short", timeZone: "UTC", ...(showYear ? { year: "numeric" } : {}) })));
  });
  const nowX = x(now);
  svg.insertBefore(s("line", { class: "tl-today", x1: nowX, x2: nowX, y1: bandTop, y2: scoreBottom }), points);
  svg.append(s("text", { class: "tl-today-label", x: nowX, y: height - 1, "text-anchor": "middle" }, formatDate(today)));
  svg.append(s("text", { class: "tl-subject", x: LEFT + plotWidth + 6, y: bandTop + 12 }, subjectName));

  highlightObjectives(svg);
  return svg;
}

/** Hovering a judgement lights up the same objective's other judgements. */
function highlightObjectives(svg) {
  svg.addEventListener("mouseover", (event) => {
    const point = event.target.closest?.(".judgement-point");
    if (!point) return;
    svg.classList.add("has-focus");
    for (const other of svg.querySelectorAll(".judgement-point")) {
      other.classList.toggle("lit", other.dataset.objectiveId === point.dataset.objectiveId);
    }
  });
  svg.addEventListener("mouseleave", () => {
    svg.classList.remove("has-focus");
    for (const other of svg.querySelectorAll(".judgement-point.lit")) other.classList.remove("lit");
  });
}

/** The chart's legend as [graphic, text] pairs: sources' shapes, corrections, withdrawals, scores, spans. */
export function timelineLegend(sourcesSeen) {
  const graphic = (child) => s("svg", { class: "legend-graphic", width: 18, height: 18, viewBox: "-9 -9 18 18",
    "aria-hidden": "true", focusable: "false" }, child);
  const seen = new Set(sourcesSeen);
  return [
    ...Object.entries(SOURCES).map(([key, source]) => [graphic(marker(source.shape, 0, 0, { class: "legend-marker" })),
      source.label + (seen.has(key) ? "" : " (none yet)")]),
    [graphic(marker("circle", 0, 0, { class: "legend-marker status-corrected" })), "Corrected (thick outline)"],
    [graphic(marker("circle", 0, 0, { class: "legend-marker status-withdrawn" })), "Withdrawn (hollow, dashed)"],
    [graphic(s("path", { class: "tl-score-marker", d: "M0 -6 L6 0 L0 6 L-6 0 Z" })), "Standardised score"],
    [graphic(s("rect", { class: "tl-span", x: -7, y: -7, width: 14, height: 14 })), "Intervention"],
  ];
}
