"""``FATHOM_ENV=production`` refuses development-only settings, each with a message naming what to set.

Each refusal test starts from a correct production environment and spoils one thing, so it proves that one
check (and that the others stay quiet). None of these refusals existed before: the services started anyway.
"""

from __future__ import annotations

import pytest

from fathom_api import create_app as create_api_app
from fathom_reports import create_app as create_reports_app
from fathom_shared.config import load_settings
from fathom_shared.production_check import UnsafeForProduction, production_problems, refuse_unsafe_production

GOOD_SECRET = "k3Yq0cJm2VfS6Jp1bXWZqRr8LhT4uN5eA7dG9sPzQ0w"
PRODUCTION = {
    "FATHOM_ENV": "production",
    "DATABASE_URL": "postgresql://postgres:Vq7nT2xL9pK4wR8s@db.internal:5432/fathom",
    "APP_DATABASE_URL": "postgresql://fathom_app:Hc3mZ8rQ1yB6tW0v@db.internal:5432/fathom",
    "FATHOM_JWKS_URL": "https://login.example.org/.well-known/jwks.json",
    "FATHOM_JWT_ISSUER": "https://login.example.org/",
    "FATHOM_WEB_SECRET": GOOD_SECRET,
    "FATHOM_PUBLIC_URL": "https://fathom.example.org",
    "FATHOM_WEBHOOK_KEY": "dGhpcy1pcy1hLXRlc3Qta2V5LW9mLTMyLWJ5dGVzLi4=",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "fathom-relay",
    "KAFKA_SASL_PASSWORD": "Zr4kQ9wM2pT7vX1c",
}


def problems_with(**changes: str | None) -> list[str]:
    env = {**PRODUCTION, **changes}
    return production_problems(load_settings({k: v for k, v in env.items() if v is not None}))


def only_problem(**changes: str | None) -> str:
    problems = problems_with(**changes)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_correct_production_configuration_passes() -> None:
    assert problems_with() == []
    refuse_unsafe_production(load_settings(PRODUCTION), "api")


def test_development_is_not_checked() -> None:
    assert production_problems(load_settings({})) == []


def test_refuses_the_development_sign_in() -> None:
    assert "FATHOM_DEV_SIGN_IN=0" in only_problem(FATHOM_DEV_SIGN_IN="1")


def test_refuses_the_local_signing_key() -> None:
    problem = only_problem(FATHOM_JWKS_URL=None)
    assert "FATHOM_JWKS_URL" in problem and "JWKS URL" in problem and "local key" in problem


def test_refuses_a_webhook_key_generated_per_instance() -> None:
    problem = only_problem(FATHOM_WEBHOOK_KEY=None)
    assert "FATHOM_WEBHOOK_KEY" in problem and "Fernet" in problem


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
def test_refuses_an_unauthenticated_broker(protocol: str) -> None:
    problem = only_problem(KAFKA_SECURITY_PROTOCOL=protocol, KAFKA_SASL_MECHANISM=None)
    assert "KAFKA_SECURITY_PROTOCOL=SASL_SSL" in problem and protocol in problem


def test_refuses_webhooks_to_loopback() -> None:
    assert "FATHOM_WEBHOOK_ALLOW_LOOPBACK=0" in only_problem(FATHOM_WEBHOOK_ALLOW_LOOPBACK="1")


def test_refuses_the_default_application_role_password() -> None:
    problem = only_problem(APP_DATABASE_URL=None, FATHOM_APP_DB_PASSWORD=None)  # derived: fathom_app:fathom_app
    assert "FATHOM_APP_DB_PASSWORD" in problem and "well-known default" in problem


def test_refuses_a_well_known_application_password_given_in_the_url() -> None:
    problem = only_problem(APP_DATABASE_URL="postgresql://fathom_app:changeme@db.internal:5432/fathom")
    assert "FATHOM_APP_DB_PASSWORD" in problem and "changeme" not in problem  # never echoes a secret


def test_accepts_a_strong_application_password_given_on_its_own() -> None:
    assert problems_with(APP_DATABASE_URL=None, FATHOM_APP_DB_PASSWORD="Hc3mZ8rQ1yB6tW0v") == []


def test_refuses_an_owner_url_without_a_password() -> None:
    problem = only_problem(DATABASE_URL="postgresql://postgres@db.internal:5432/fathom")
    assert problem.startswith("DATABASE_URL") and "is missing" in problem


def test_refuses_an_owner_url_with_a_default_password() -> None:
    problem = only_problem(DATABASE_URL="postgresql://postgres:fathom@db.internal:5432/fathom")
    assert problem.startswith("DATABASE_URL") and "well-known default" in problem


def test_refuses_a_missing_web_secret() -> None:
    problem = only_problem(FATHOM_WEB_SECRET=None)
    assert "FATHOM_WEB_SECRET" in problem and "at least 32 characters" in problem


def test_refuses_a_short_web_secret() -> None:
    problem = only_problem(FATHOM_WEB_SECRET="short")
    assert "FATHOM_WEB_SECRET" in problem and "shorter than 32" in problem and "short:" not in problem


def test_refuses_an_http_public_url() -> None:
    problem = only_problem(FATHOM_PUBLIC_URL="http://fathom.example.org")
    assert "FATHOM_PUBLIC_URL" in problem and "https://" in problem


def test_refuses_a_missing_public_url() -> None:
    assert "FATHOM_PUBLIC_URL" in only_problem(FATHOM_PUBLIC_URL=None)


def test_every_problem_is_listed_at_once() -> None:
    settings = load_settings({"FATHOM_ENV": "production", "FATHOM_DEV_SIGN_IN": "1"})
    with pytest.raises(UnsafeForProduction) as refused:
        refuse_unsafe_production(settings, "projector")
    message = str(refused.value)
    assert message.startswith("refusing to start projector with FATHOM_ENV=production:")
    for variable in ("FATHOM_DEV_SIGN_IN", "FATHOM_JWKS_URL", "FATHOM_APP_DB_PASSWORD", "FATHOM_WEB_SECRET",
                     "FATHOM_PUBLIC_URL", "FATHOM_WEBHOOK_KEY", "KAFKA_SECURITY_PROTOCOL"):
        assert variable in message, variable
    assert len(refused.value.problems) == 7  # the default owner URL is not one: services never use it


def test_a_misspelt_environment_is_an_error_not_development() -> None:
    with pytest.raises(ValueError, match="FATHOM_ENV"):
        load_settings({"FATHOM_ENV": "prod"})


@pytest.mark.parametrize("factory", [create_api_app, create_reports_app])
def test_the_app_factories_refuse_before_connecting(factory) -> None:
    """No engine is passed: the refusal comes before the factory would make one (or touch a key file)."""
    with pytest.raises(UnsafeForProduction, match="FATHOM_WEB_SECRET"):
        factory(load_settings({**PRODUCTION, "FATHOM_WEB_SECRET": ""}))
