"""``FATHOM_LIMIT_<KIND>``: per caller, per trust and per minute bounds on expensive reads."""

from __future__ import annotations

import pytest

from fathom_shared.config import FAIR_USE_DEFAULTS, FairUseLimit, load_settings


def test_every_kind_has_a_default_and_one_can_be_overridden() -> None:
    settings = load_settings({"FATHOM_LIMIT_AS_OF": "1,3,20", "FATHOM_LIMIT_STREAM": "5,50"})
    assert settings.fair_use["as_of"] == FairUseLimit(1, 3, 20)
    assert settings.fair_use["stream"] == FairUseLimit(5, 50, 0)
    assert settings.fair_use["verify"] == FAIR_USE_DEFAULTS["verify"]
    assert set(settings.fair_use) == {"as_of", "verify", "export", "stream", "wait"}


@pytest.mark.parametrize("value", ["3", "1,2,3,4", "-1,2", "a,b"])
def test_a_malformed_limit_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError):
        load_settings({"FATHOM_LIMIT_VERIFY": value})
