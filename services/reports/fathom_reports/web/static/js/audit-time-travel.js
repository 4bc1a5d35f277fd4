// Audit's time-travel panel: open a class, school or the trust as it stood at any event's sequence.
import { getJSON, h } from "./fathom.js";
import { asOfHref, NOW } from "./audit-common.js";

// --- time travel ---------------------------------------------------------------------------------

export function timeTravelPanel() {
  const moment = h("input", { id: "travel-moment", name: "moment", type: "text", inputmode: "numeric", required: true,
    placeholder: "e.g. 2437 or 2026-11-05T09:30:00", "aria-describedby": "travel-hint",
  });
  const target = h("select", { id: "travel-target", name: "target" }, h("option", { value: "/trust" },
    "Trust analysis"));
  const error = h("p", { id: "travel-error", class: "field-error", hidden: true });
  const submit = (event) => {
    event.preventDefault();
    const value = moment.value.trim();
    const valid = /^\d{1,18}$/.test(value) || (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(Date.parse(value)));
    if (!valid) {
      moment.setAttribute("aria-invalid", "true");
      error.textContent = "Enter a sequence number (e.g. 2437) or a UTC time (e.g. 2026-11-05T09:30:00).";
      error.hidden = false;
      moment.focus();
      return;
    }
    location.assign(asOfHref(target.value, value));
  };
  return h("section", { class: "panel travel-panel", "aria-labelledby": "travel-heading" },
    h("h2", { id: "travel-heading" }, "See the data as it stood at any moment"),
    h("p", { class: "hint", id: "travel-hint" }, "Analysis pages (trust, school, class, pupil) have an ",
      h("strong", {}, "As of"), " picker: they then show exactly what was known at that moment — later "
      + "judgements, corrections, withdrawals and moves left out — replayed from this log. A moment is a time "
      + "(UTC) or an event's sequence number: “as of 2437” means right after event 2437. Each event below links "
      + "to its class or pupil as of that event."),
    h("form", { class: "toolbar travel-form", id: "travel-form", onsubmit: submit },
      h("label", { for: "travel-target" }, "Page", target),
      h("label", { for: "travel-moment" }, "As of (sequence or UTC time)", moment),
      h("button", { type: "submit" }, "Open as of then")),
    error);
}

export async function fillDirectory() {
  const target = document.getElementById("travel-target");
  if (!target) return;
  try {
    const directory = await getJSON("/v1/directory", NOW);
    for (const school of directory.schools) {
      target.append(h("optgroup", { label: school.name },
        h("option", { value: `/schools/${encodeURIComponent(school.school_id)}` }, `${school.name} (school)`),
        school.classes.map((klass) => h("option", { value: `/classes/${encodeURIComponent(klass.class_id)}` },
          `Class ${klass.name} · Year ${klass.year_group}`))));
    }
  } catch (error) {
    console.warn("directory unavailable for the time-travel targets", error);
  }
}
