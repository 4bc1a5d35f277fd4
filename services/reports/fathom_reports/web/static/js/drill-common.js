// What the leaders' drill-down pages and the pupil profile share: percentages, group chips, refusals, and keeping
// the page's filters when the as-of picker reloads the page.
import { capitalise, h, showRefusal } from "./fathom.js";

/** Percentage as the API computed it, always with one decimal ("56.0"), or null. */
export function pct(value) {
  return value === null || value === undefined ? null : Number(value).toFixed(1);
}

/** A pupil's groups as short chips (profile header). */
export function groupChips(groups = {}) {
  const chips = [];
  if (groups.pupil_premium) chips.push("Pupil premium");
  if (groups.sen === "support") chips.push("SEN support");
  else if (groups.sen === "ehcp") chips.push("EHCP");
  else if (groups.sen && groups.sen !== "none") chips.push(`SEN: ${groups.sen}`);
  if (groups.eal) chips.push("EAL");
  if (groups.more_able) chips.push("More able");
  if (groups.gender) chips.push(capitalise(groups.gender));
  for (const name of groups.custom || []) chips.push(name);
  return chips;
}

/** Show a refused or failed read plainly: the API's problem in the status region, and what it means.
 * ``what`` names the thing ("school", "pupil"); ``options.the`` says "the" instead of "this"; ``options.more``
 * adds elements (e.g. links to what the person may open instead). */
export function refusal(error, what, { the = false, more = null } = {}) {
  const article = the ? "the" : "this";
  let heading = `${the ? "The" : "This"} ${what} could not be shown`;
  let text = error.detail || error.message || "";
  if (error.status === 403) {
    heading = `You do not have access to ${article} ${what}`;
    text = `Your role does not let you see ${article} ${what}. Ask your trust's data lead if you think you should.`;
  } else if (error.status === 404) {
    heading = `No such ${what}`;
    text = `There is no ${what} with this id in your trust. It may have been mistyped or removed.`;
  } else if (error.status === 503) {
    heading = "The figures are still being brought up to date";
    text = "Please try again in a moment.";
  }
  showRefusal(error, { heading, explanation: text, more });
}

/** The as-of picker reloads the page with only ?as_of=…: keep the page's own filters (``keys``) too. */
export function keepFiltersInAsOfForm(keys) {
  const form = document.querySelector("form.as-of");
  if (!form) return;
  const query = new URLSearchParams(location.search);
  form.querySelectorAll("input[data-kept]").forEach((input) => input.remove());
  for (const key of keys) {
    const value = query.get(key);
    if (value) form.append(h("input", { type: "hidden", name: key, value, "data-kept": "" }));
  }
  const today = form.querySelector("a.as-of-today");
  if (today) {
    const kept = new URLSearchParams();
    for (const key of keys) if (query.get(key)) kept.set(key, query.get(key));
    today.setAttribute("href", location.pathname + (kept.toString() ? "?" + kept : ""));
  }
}

