"""``FATHOM_ENV=production``: refuse to start on settings that are only safe on a developer's machine.

Each service calls :func:`refuse_unsafe_production` as it starts (app factories and ``__main__``), before it
connects to anything. Every problem is listed at once, each naming the variable to set and what kind of value,
so an operator fixes the deployment in one round rather than one restart per mistake. Secrets are never echoed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fathom_shared.config import DEFAULT_DATABASE_URL, Settings

WELL_KNOWN_PASSWORDS = frozenset({
    "fathom_app", "fathom", "postgres", "password", "changeme", "change-me", "secret", "admin", "root", "example",
})
"""Passwords from this project's defaults (``fathom_app``, compose's ``fathom``) and the usual suspects."""
MIN_WEB_SECRET_LENGTH = 32
MAKE_A_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class UnsafeForProduction(RuntimeError):
    """The settings would run a development deployment under ``FATHOM_ENV=production``."""

    def __init__(self, service: str, problems: list[str]) -> None:
        self.service, self.problems = service, problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"refusing to start {service} with FATHOM_ENV=production:\n{lines}")


def production_problems(settings: Settings) -> list[str]:
    """What is unsafe about ``settings`` for production; empty outside production."""
    if settings.environment != "production":
        return []
    problems: list[str] = []
    if settings.dev_sign_in:
        problems.append("FATHOM_DEV_SIGN_IN is on, so anyone can list every trust's people and sign in as them: "
                        "unset it or set FATHOM_DEV_SIGN_IN=0.")
    if not settings.jwks_url:
        problems.append("FATHOM_JWKS_URL is not set, so tokens are signed and checked with the local key file "
                        "(FATHOM_SIGNING_KEY): set FATHOM_JWKS_URL to your OpenID Connect issuer's JWKS URL "
                        "(https://…), with FATHOM_JWT_ISSUER and FATHOM_JWT_AUDIENCE to match its tokens.")
    if weakness := password_weakness(settings.app_database_url):
        problems.append(f"the application role's database password {weakness}: set FATHOM_APP_DB_PASSWORD (or the "
                        "password in APP_DATABASE_URL) to a long random secret, the one `fathom migrate` was "
                        "given for the fathom_app role.")
    if settings.reports_database_url and (weakness := password_weakness(settings.reports_database_url)):
        problems.append(f"REPORTS_DATABASE_URL's password {weakness}: leave the user and password out of it (the "
                        "application role's are used) or give the fathom_app role's long random password.")
    if settings.database_url != DEFAULT_DATABASE_URL and (weakness := password_weakness(settings.database_url)):
        problems.append(f"DATABASE_URL's password {weakness}: give the owner role a long random password "
                        "(postgresql://USER:PASSWORD@HOST:PORT/DATABASE), or leave DATABASE_URL out of the "
                        "services' environment (only migrations and trust provisioning need it).")
    if not settings.web_secret:
        problems.append("FATHOM_WEB_SECRET is not set, so each instance would generate its own cookie-signing "
                        f"secret into {settings.web_secret_path}: set FATHOM_WEB_SECRET to a random string of at "
                        f"least {MIN_WEB_SECRET_LENGTH} characters, the same on every instance "
                        f"(e.g. {MAKE_A_SECRET}).")
    elif len(settings.web_secret) < MIN_WEB_SECRET_LENGTH:
        problems.append(f"FATHOM_WEB_SECRET is shorter than {MIN_WEB_SECRET_LENGTH} characters: set it to a random "
                        f"string of at least {MIN_WEB_SECRET_LENGTH} (e.g. {MAKE_A_SECRET}).")
    if not settings.public_url:
        problems.append("FATHOM_PUBLIC_URL is not set: set it to the https:// address people use to reach the web "
                        "app (e.g. https://fathom.example.org).")
    elif urlsplit(settings.public_url).scheme != "https":
        problems.append(f"FATHOM_PUBLIC_URL is {settings.public_url}, not https: set it to the https:// address "
                        "people use (TLS may end at a proxy; see FATHOM_TRUSTED_PROXIES).")
    if not settings.webhook_key:
        problems.append("FATHOM_WEBHOOK_KEY is not set, so each instance would generate its own key for webhook "
                        f"secrets into {settings.webhook_key_path} and reports and delivery would disagree: set it "
                        "to a Fernet key, the same on every reports and delivery instance (python -c \"from "
                        "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\").")
    if settings.webhook_allow_loopback:
        problems.append("FATHOM_WEBHOOK_ALLOW_LOOPBACK is on, so webhooks may call services on the host itself: "
                        "unset it or set FATHOM_WEBHOOK_ALLOW_LOOPBACK=0.")
    if not settings.kafka_security_protocol.startswith("SASL_"):
        problems.append(f"KAFKA_SECURITY_PROTOCOL is {settings.kafka_security_protocol}, so anyone who reaches the "
                        "broker can read every trust's events: set KAFKA_SECURITY_PROTOCOL=SASL_SSL with "
                        "KAFKA_SASL_MECHANISM=SCRAM-SHA-512, KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD (this "
                        "service's principal) and KAFKA_SSL_CAFILE.")
    return problems


def password_weakness(url: str) -> str | None:
    """Why the password in a database URL is unfit for production, or None when it is not a known default."""
    password = urlsplit(url).password
    if not password:
        return "is missing"
    if password.lower() in WELL_KNOWN_PASSWORDS:
        return "is a well-known default"
    return None


def refuse_unsafe_production(settings: Settings, service: str) -> None:
    """Raise :class:`UnsafeForProduction` listing every problem (app factories: the WSGI server fails to boot)."""
    if problems := production_problems(settings):
        raise UnsafeForProduction(service, problems)


def exit_if_unsafe(settings: Settings, service: str) -> None:
    """For a ``__main__``: the message on stderr and a non-zero exit instead of a traceback."""
    try:
        refuse_unsafe_production(settings, service)
    except UnsafeForProduction as unsafe:
        raise SystemExit(str(unsafe)) from None
