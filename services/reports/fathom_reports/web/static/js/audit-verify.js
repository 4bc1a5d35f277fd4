// Audit's verification panel: checks the trust's hash chain (in the background when it is long).
import { getJSON, h, postJSON } from "./fathom.js";
import { formatTime, NOW } from "./audit-common.js";
import { eventsPath, query } from "./audit-query.js";

// --- verification --------------------------------------------------------------------------------

export function verifyPanel() {
  const result = h("div", { id: "verify-result", class: "verify-result", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "verify-chain", class: "primary", onclick: () => verify(button,
    result) }, "Verify chain");
  return h("section", { class: "panel verify-panel", "aria-labelledby": "verify-heading" },
    h("div", { class: "verify-head" },
      h("div", {},
        h("h2", { id: "verify-heading" }, "Tamper evidence"),
        h("p", { class: "hint" }, "Every event carries a hash of itself and of the event before it. Verifying "
          + "recomputes the whole chain from the first event and checks it ends at the trust's recorded head: "
          + "any edited, removed or reordered event shows as a break.")),
      button),
    result);
}

async function verify(button, result) {
  button.disabled = true;
  result.className = "verify-result verify-running";
  result.replaceChildren("Verifying the whole chain… this reads every event.");
  try {
    const report = await verifyInBackground(result);
    let head = null;
    if (report.head_sequence > 0) {
      const params = new URLSearchParams({ after: String(report.head_sequence - 1), limit: "1" });
      head = (await getJSON(eventsPath(params), NOW).catch(() => null))?.events?.[0] || null;
    }
    result.className = `verify-result ${report.ok ? "verify-ok" : "verify-broken"}`;
    result.dataset.ok = String(report.ok);
    const facts = h("dl", { class: "verify-facts" },
      h("div", {}, h("dt", {}, "Events checked"), h("dd", { id: "verify-events-checked" },
        report.events_checked.toLocaleString("en-GB"))),
      h("div", {}, h("dt", {}, "Head sequence"), h("dd", {}, report.head_sequence.toLocaleString("en-GB"))),
      head && head.sequence === report.head_sequence
        ? h("div", { class: "verify-hash" }, h("dt", {}, "Head hash"), h("dd", {}, h("code", { class: "hash-full" },
          head.hash))) : null,
      h("div", {}, h("dt", {}, "Checked at"), h("dd", {}, formatTime(new Date().toISOString()))));
    if (report.ok) {
      result.replaceChildren(h("p", { class: "verify-verdict" }, h("span", { "aria-hidden": "true" }, "✓ "),
        "Chain intact: ", `all ${report.events_checked.toLocaleString("en-GB")} events verified, none altered, `
        + "removed or reordered."), facts,
      h("p", { class: "hint" }, h("a", { href: latestHref(report.head_sequence) }, "Show the latest events")));
    } else {
      const broken = report.first_broken;
      result.replaceChildren(h("p", { class: "verify-verdict" }, h("span", { "aria-hidden": "true" }, "✗ "),
        `Chain broken at sequence ${broken.sequence}`, broken.event_id ? ` (event ${broken.event_id})` : "",
        `: ${broken.reason}`), facts,
      h("p", {}, `The ${report.events_checked.toLocaleString("en-GB")} events before it verified. `,
        h("a", { href: `/audit?after=${Math.max(0, broken.sequence - 3)}&limit=50` }, "Show the events around the break"),
        ". Report this to your platform's operators: the log must never change."));
    }
  } catch (error) {
    result.className = "verify-result verify-broken";
    result.replaceChildren(h("p", { class: "verify-verdict" }, "Verification could not run: ",
      error.title || String(error), error.detail ? ` — ${error.detail}` : ""));
  } finally {
    button.disabled = false;
  }
}

/** Start (or join) the trust's verification job and show its progress until it is done; its report. */
async function verifyInBackground(result) {
  const progress = h("progress", { id: "verify-progress", max: "1", value: "0" });
  const counted = h("span", { id: "verify-progress-text" }, "Queued…");
  result.replaceChildren(h("p", {}, "Verifying the whole chain in the background… this reads every event."),
    h("p", {}, progress, " ", counted));
  let job = await postJSON("/v1/audit/verifications");
  while (job.status !== "done") {
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await getJSON(job.location, NOW);
    progress.value = job.progress;
    counted.textContent = `${job.events_checked.toLocaleString("en-GB")} of `
      + `${job.events_total.toLocaleString("en-GB")} events checked`;
  }
  return job.result;
}

function latestHref(head) {
  const limit = Number(query.get("limit")) || 50;
  return `/audit?after=${Math.max(0, head - limit)}&limit=${limit}`;
}
