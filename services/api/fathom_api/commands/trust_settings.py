"""Trust-wide settings: the rollup method and the analysis thresholds.

Both are events on the ("trust", trust_id) stream, so the read models (and any rebuild)
derive the same "current judgement" and the same small-group caution from the log alone.
Only trust leaders (and platform admins) change them: they alter every school's figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from fathom_api.access import require_trust_wide
from fathom_api.executor import Decide, Decision
from fathom_shared.auth import Principal
from fathom_shared.event_store import NewEvent
from fathom_shared.events import serialise


def decide_setting(event_type: str, data: dict[str, Any], caller: Principal) -> list[NewEvent]:
    """The setting's event on the caller's trust stream, if they may change trust-wide settings."""
    require_trust_wide(caller, "trust settings")
    return [NewEvent("trust", caller.trust_id, event_type, serialise(event_type, data))]


def _trust_event(event_type: str, data: dict[str, Any]) -> Decide:
    def decide(conn: Connection, principal: Principal) -> Decision:
        return Decision(events=decide_setting(event_type, data, principal), resource_id=principal.trust_id)

    return decide


def change_rollup_method(payload: dict[str, Any]) -> Decide:
    """Set how a pupil's current judgement on an objective is derived (RollupMethodChanged).

    ``latest`` (default), ``highest``, ``mean_last_n`` or ``secure_n_times``; the last two need
    ``n`` (1-10). The read models are rebuilt under the new method.
    """
    return _trust_event("RollupMethodChanged", {"method": payload["method"], "n": payload.get("n")})


def decide_thresholds(change: dict[str, Any], caller: Principal) -> list[NewEvent]:
    """``TrustSettingsChanged`` for the values given (as before: the others null, "unchanged"), then
    ``TrustSettingsReset`` for the names in ``reset``; one of them at least (the schema sees to it)."""
    values, reset = {k: v for k, v in change.items() if k != "reset"}, list(dict.fromkeys(change.get("reset", ())))
    events = decide_setting("TrustSettingsChanged", values, caller) if values else []
    if reset:
        events += decide_setting("TrustSettingsReset", {"settings": reset}, caller)
    return events


def change_trust_settings(payload: dict[str, Any]) -> Decide:
    """Change any of the analysis thresholds (TrustSettingsChanged); fields left out keep their value.

    ``reset`` lists settings to put back to their defaults (TrustSettingsReset), e.g.
    ``{"reset": ["secure_target_percent"]}``; an unknown name is a 422 naming ``reset.<n>``, and so is a
    name also given a value. Values and resets may go together: both events are appended at once.
    """
    def decide(conn: Connection, principal: Principal) -> Decision:
        return Decision(events=decide_thresholds(payload, principal), resource_id=principal.trust_id)

    return decide
