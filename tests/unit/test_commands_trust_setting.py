"""Trust settings rules (no database)."""

from __future__ import annotations

import pytest

from fathom_api.commands.trust_settings import decide_setting
from fathom_api.refusals import Forbidden
from fathom_shared.auth import Principal


def test_only_trust_wide_roles_change_settings_on_their_trust_stream():
    leader = Principal(sub="head", trust_id="t1", roles=frozenset({"trust_leader"}))
    [event] = decide_setting("RollupMethodChanged", {"method": "latest", "n": None}, leader)
    assert (event.stream_type, event.stream_id, event.event_type) == ("trust", "t1", "RollupMethodChanged")
    school_leader = Principal(sub="sl", trust_id="t1", roles=frozenset({"school_leader"}))
    with pytest.raises(Forbidden) as refused:
        decide_setting("RollupMethodChanged", {"method": "latest", "n": None}, school_leader)
    assert refused.value.detail == "Only trust leaders change trust settings."


def test_values_and_resets_are_two_events_and_a_reset_names_each_setting_once():
    from fathom_api.commands.trust_settings import decide_thresholds

    leader = Principal(sub="head", trust_id="t1", roles=frozenset({"trust_leader"}))
    changed, reset = decide_thresholds({"small_group_threshold": 3, "reset": ["secure_target_percent"] * 2}, leader)
    assert (changed.event_type, changed.data) == ("TrustSettingsChanged", {
        "small_group_threshold": 3, "secure_target_percent": None, "score_disagreement_margin": None})
    assert (reset.event_type, reset.data) == ("TrustSettingsReset", {"settings": ["secure_target_percent"]})
    [only] = decide_thresholds({"reset": ["score_disagreement_margin"]}, leader)
    assert (only.stream_type, only.stream_id, only.event_type) == ("trust", "t1", "TrustSettingsReset")
