"""Settings that are safe when nobody set them: the development sign-in is off unless asked for."""

from __future__ import annotations

import pytest

from fathom_shared.config import load_settings


def test_dev_sign_in_is_off_when_nothing_is_said() -> None:
    """No JWKS URL used to mean 'development' and switch it on for anyone who could reach the web app."""
    assert load_settings({}).dev_sign_in is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_dev_sign_in_is_on_when_explicitly_enabled(value: str) -> None:
    assert load_settings({"FATHOM_DEV_SIGN_IN": value}).dev_sign_in is True


def test_dev_sign_in_stays_off_when_disabled_or_a_real_issuer_is_configured() -> None:
    assert load_settings({"FATHOM_DEV_SIGN_IN": "0"}).dev_sign_in is False
    assert load_settings({"FATHOM_JWKS_URL": "https://id.example/jwks"}).dev_sign_in is False



@pytest.mark.parametrize(("name", "field"), [
    ("FATHOM_WEBHOOK_WORKERS", "webhook_workers"), ("FATHOM_MAX_BATCH", "max_batch"),
    ("FATHOM_CHANGE_RETENTION_DAYS", "change_retention_days"), ("FATHOM_TRUSTED_PROXIES", "trusted_proxies")])
def test_every_count_setting_is_read_one_way(name: str, field: str) -> None:
    """Counts are read through one helper: empty means the default, a negative or a word stops the process
    naming the setting (before, ``int()`` took -1 workers or -5 retention days quietly, and crashed on empty)."""
    assert getattr(load_settings({name: ""}), field) == getattr(load_settings({}), field)
    for bad in ("-1", "ten"):
        with pytest.raises(ValueError, match=name):
            load_settings({name: bad})


def test_a_yes_no_setting_names_itself_when_it_is_neither() -> None:
    with pytest.raises(ValueError, match="FATHOM_DEV_SIGN_IN"):
        load_settings({"FATHOM_DEV_SIGN_IN": "maybe"})
