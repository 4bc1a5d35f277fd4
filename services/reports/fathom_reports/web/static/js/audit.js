// Audit: the trust's event log (filters, pages, every event's full payload), verification of the hash
// chain, exports, and time travel: any event's sequence number opens an analysis page as it stood then.
// This module puts the page together; each panel has its own.
import { ApiError, h, load, mount, setCrumbs, setTitle, showProblem, showRefusal } from "./fathom.js";
import { showEvents } from "./audit-events.js";
import { eventsPanel, markInvalid } from "./audit-filters.js";
import { fetchEvents } from "./audit-query.js";
import { fillDirectory, timeTravelPanel } from "./audit-time-travel.js";
import { verifyPanel } from "./audit-verify.js";

load(async () => {
  setTitle("Audit");
  setCrumbs([{ label: "Home", href: "/" }, { label: "Audit" }]);
  let first;
  try {
    first = await fetchEvents();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 401)) {
      showRefusal(error, { id: "audit-refused", heading: "The audit log is for auditors",
        explanation: "Only people with the auditor (or platform admin) role can read the event history, verify "
          + "the chain or export events. If you need this, ask your trust's data protection lead." });
      return;
    }
    // A filter the API refused: show why, next to the filter, and keep the form to fix it.
    mount("view", verifyPanel(), timeTravelPanel(), eventsPanel());
    showProblem(error);
    markInvalid(error);
    mount("events-area", h("p", { class: "empty" }, "No events shown: fix the filters above."));
    fillDirectory();
    return;
  }
  mount("view", verifyPanel(), timeTravelPanel(), eventsPanel());
  showEvents(first, false);
  fillDirectory();
});
