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
