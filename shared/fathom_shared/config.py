"""Settings read from the environment, one place for every service.

Every service calls :func:`load_settings`, so the configuration table in the README has one place to be
checked against. The few other readers of ``os.environ`` run where no settings exist yet or are not wanted:
the log format (read as logging starts, also by gunicorn's logger), the benchmark's stage trace, and the
``fathom`` command's ``--home`` default and the migration's password for ``fathom_app``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/fathom"
ENVIRONMENTS = ("development", "production")


def sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (what every tool prints) and use psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server and database, as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def replica_url(url: str | None, app_url: str) -> str | None:
    """``REPORTS_DATABASE_URL`` as the application role: a URL without a user name gets the application role's
    credentials (the replica is a copy of the primary, roles and passwords included), so row-level security
    applies there exactly as on the primary and the password is configured once."""
    if url is None or urlsplit(url).username:
        return url
    app = urlsplit(app_url)
    return with_credentials(url, app.username or "fathom_app", app.password or "")


@dataclass(frozen=True)
class Settings:
    database_url: str
    """Owner role: runs migrations, provisions trusts. Never used to serve requests."""
    app_database_url: str
    """Application role: not the table owner, so row-level security applies to it."""
    kafka_bootstrap_servers: str
    reports_database_url: str | None = None
    """A streaming replica (hot standby) the reports service reads its read models from, as the application role;
    None: from the primary (``app_database_url``). Everything the reports service writes, and what only the primary
    can answer (the event store's head, time travel's scratch tables), still goes to the primary."""
    events_topic: str = "fathom.events"
    topic_partitions: int = 12
    """Partitions of the events topic: at most this many projectors share the work."""
    trim_consumed_events: bool = True
    """Projectors delete the events topic's records below their group's committed offsets (the event store keeps
    every event; see ``fathom_projector.trim``). Off only when another consumer group reads the events topic."""
    jwt_issuer: str = "fathom-local"
    jwt_audience: str = "fathom"
    jwks_url: str | None = None
    signing_key_path: Path = field(default_factory=lambda: Path(".fathom/signing-key.pem"))
    max_batch: int = 1000
    consistency_timeout_s: float = 5.0
    projector_group: str = "fathom-projector"
    changes_topic_prefix: str = "fathom.changes."
    """Per-trust change topics are ``<prefix><trust_id>``, so broker ACLs can be granted per trust."""
    webhook_backoff_s: float = 0.5
    """First retry delay of a failed webhook delivery; doubled on each further failure."""
    webhook_max_attempts: int = 6
    """Attempts before a notice goes to the subscription's dead letters and delivery moves on."""
    webhook_timeout_s: float = 5.0
    api_url: str = "http://127.0.0.1:8000"
    """Where the web app (served by the reports service) forwards the browser's commands."""
    public_url: str | None = None
    """The web app's public address; ``https://…`` makes the session cookie ``Secure``."""
    web_secret_path: Path = field(default_factory=lambda: Path(".fathom/web-secret"))
    """Signs session cookies; created on first use unless ``FATHOM_WEB_SECRET`` gives the secret itself."""
    web_secret: str | None = None
    oidc_issuer: str | None = None
    """OpenID Connect issuer for web sign-in (its ``/.well-known/openid-configuration`` is read)."""
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scope: str = "openid profile email"
    dev_sign_in: bool = False
    """The development sign-in (pick a trust and a person; mints a local token). Off unless ``FATHOM_DEV_SIGN_IN=1``:
    it lists every trust's schools, classes and staff to anyone, and signs them in as any of those people."""
    environment: str = "development"
    """``production`` makes every service refuse to start on development-only settings
    (:mod:`fathom_shared.production_check`)."""
    trusted_proxies: int = 0
    """Proxies in front of the web services whose ``X-Forwarded-For/-Proto/-Host`` are believed (0: none)."""
    ops_port: int | None = None
    """Port of the operations server (``/metrics``, detailed ``/readyz``); off when unset or 0."""
    ops_host: str = "127.0.0.1"
    """Address the operations server binds to: loopback unless a scraper elsewhere must reach it."""
    webhook_allow_loopback: bool = False
    """Let webhooks go to 127.0.0.1/``localhost`` (``fathom up`` and the tests); other private ranges never."""
    webhook_key: str | None = None
    """Fernet key(s) sealing webhook secrets at rest, comma-separated, newest first (older ones still open)."""
    webhook_key_path: Path = field(default_factory=lambda: Path(".fathom/webhook-key"))
    """Where a local run keeps its generated webhook key when ``FATHOM_WEBHOOK_KEY`` is unset."""
    webhook_max_per_trust: int = 10
    """Subscriptions one trust may register."""
    webhook_workers: int = 4
    """Deliveries in flight at once across all trusts (each subscription has at most one)."""
    kafka_security_protocol: str = "PLAINTEXT"
    """``PLAINTEXT`` (local only), ``SASL_PLAINTEXT``, ``SSL`` or ``SASL_SSL`` (production)."""
    kafka_sasl_mechanism: str | None = None
    """``SCRAM-SHA-512`` in production; with ``SASL_*`` protocols only."""
    kafka_sasl_username: str | None = None
    """The service's own broker principal: ACLs grant each service only the topics it needs."""
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    """CA certificate that signed the broker's TLS certificate (``SSL``/``SASL_SSL``)."""
    kafka_compression_type: str = "none"
    """How the change topics' producer compresses record batches: ``none``, ``zstd`` or ``gzip`` (see
    ``fathom_shared.kafka``)."""
    kafka_events_compression_type: str = "zstd"
    """How the relay compresses the events topic's record batches: read only by Fathom's projectors."""
    background_nice: int = 19
    """The CPU priority (``nice``, 0–19) of the relay, projector, delivery process and verifier: behind the API and
    reports service when the cores are busy (``fathom_shared.process.lower_cpu_priority``); 0 leaves it alone."""
    change_retention_days: int = 90
    """Change notices, and per-trust change topics, older than this are deleted."""
    change_topic_retention_bytes: int | None = None
    """At most this many bytes kept in each partition of a change topic (the topic's ``retention.bytes``, given at
    its creation); None: no limit but the days. ``fathom up`` sets it for its own broker (``fathom_infra.stack``)."""
    fair_use: dict[str, FairUseLimit] = field(default_factory=lambda: dict(FAIR_USE_DEFAULTS))
    """Per kind of expensive read: how many one caller / one trust may run at once, and start per minute."""
    fair_use_retry_after_s: int = 2
    verify_inline_max_events: int = 20000
    """``GET /v1/audit/verify`` checks a trust this small inside the request; a larger one becomes a job."""
    stream_url: str | None = None
    """Where the change-feed stream server runs; the reports service then redirects ``/v1/changes/stream`` there."""
    read_cache_bytes: int = 64 * 1024 * 1024
    """Per reports process: the most bytes of rendered read bodies (JSON and its gzip) kept to answer repeated
    reads; 0 keeps none. The least recently used body goes first."""


@dataclass(frozen=True)
class FairUseLimit:
    """``FATHOM_LIMIT_<KIND>=per_subject,per_trust[,per_minute]``; 0 means no limit of that sort."""

    per_subject: int
    per_trust: int
    per_minute: int = 0

    @classmethod
    def parse(cls, value: str) -> FairUseLimit:
        numbers = [int(part) for part in value.split(",")]
        if not 2 <= len(numbers) <= 3 or min(numbers) < 0:
            raise ValueError(f"expected per_subject,per_trust[,per_minute], got {value!r}")
        return cls(*numbers)


FAIR_USE_DEFAULTS = {
    "as_of": FairUseLimit(2, 4, 60),      # time travel: replays the event store
    "verify": FairUseLimit(1, 2, 10),     # chain verification inside a request
    "export": FairUseLimit(2, 4, 30),     # a whole filtered event log as CSV / JSON Lines
    "stream": FairUseLimit(2, 10),        # open change-feed streams
    "wait": FairUseLimit(4, 12),          # freshness waits that have to wait (fathom_infra REPORTS_THREADS)
}


def _broker_settings(env: dict[str, str]) -> dict[str, str | None]:
    """How a service proves who it is to the broker and checks it, and how its producers compress (checked by
    ``fathom_shared.kafka.BrokerAccess``)."""
    return {
        "kafka_security_protocol": env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper(),
        "kafka_sasl_mechanism": env.get("KAFKA_SASL_MECHANISM") or None,
        "kafka_sasl_username": env.get("KAFKA_SASL_USERNAME") or None,
        "kafka_sasl_password": env.get("KAFKA_SASL_PASSWORD") or None,
        "kafka_ssl_cafile": env.get("KAFKA_SSL_CAFILE") or None,
        "kafka_compression_type": env.get("KAFKA_COMPRESSION_TYPE", "none").lower(),
        "kafka_events_compression_type": env.get("KAFKA_EVENTS_COMPRESSION_TYPE", "zstd").lower(),
    }


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    database_url = env.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    app_url = env.get("APP_DATABASE_URL") or with_credentials(
        database_url, "fathom_app", env.get("FATHOM_APP_DB_PASSWORD", "fathom_app")
    )
    return Settings(
        database_url=database_url,
        app_database_url=app_url,
        reports_database_url=replica_url(env.get("REPORTS_DATABASE_URL") or None, app_url),
        kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        events_topic=env.get("FATHOM_EVENTS_TOPIC", "fathom.events"),
        topic_partitions=_count(env, "FATHOM_TOPIC_PARTITIONS", 12),
        jwt_issuer=env.get("FATHOM_JWT_ISSUER", "fathom-local"),
        jwt_audience=env.get("FATHOM_JWT_AUDIENCE", "fathom"),
        jwks_url=env.get("FATHOM_JWKS_URL") or None,
        signing_key_path=Path(env.get("FATHOM_SIGNING_KEY", ".fathom/signing-key.pem")),
        max_batch=_count(env, "FATHOM_MAX_BATCH", 1000),
        consistency_timeout_s=float(env.get("FATHOM_CONSISTENCY_TIMEOUT", "5")),
        projector_group=env.get("FATHOM_PROJECTOR_GROUP", "fathom-projector"),
        changes_topic_prefix=env.get("FATHOM_CHANGES_TOPIC_PREFIX", "fathom.changes."),
        webhook_backoff_s=float(env.get("FATHOM_WEBHOOK_BACKOFF", "0.5")),
        webhook_max_attempts=_count(env, "FATHOM_WEBHOOK_MAX_ATTEMPTS", 6),
        webhook_timeout_s=float(env.get("FATHOM_WEBHOOK_TIMEOUT", "5")),
        api_url=env.get("FATHOM_API_URL", "http://127.0.0.1:8000").rstrip("/"),
        public_url=env.get("FATHOM_PUBLIC_URL") or None,
        web_secret_path=Path(env.get("FATHOM_WEB_SECRET_FILE", ".fathom/web-secret")),
        web_secret=env.get("FATHOM_WEB_SECRET") or None,
        oidc_issuer=env.get("FATHOM_OIDC_ISSUER") or None,
        oidc_client_id=env.get("FATHOM_OIDC_CLIENT_ID") or None,
        oidc_client_secret=env.get("FATHOM_OIDC_CLIENT_SECRET") or None,
        oidc_scope=env.get("FATHOM_OIDC_SCOPE", "openid profile email"),
        dev_sign_in=_flag(env, "FATHOM_DEV_SIGN_IN", default=False),
        environment=_choice(env, "FATHOM_ENV", "development", ENVIRONMENTS),
        trusted_proxies=_count(env, "FATHOM_TRUSTED_PROXIES", 0),
        ops_port=_count(env, "FATHOM_OPS_PORT", 0) or None,
        ops_host=env.get("FATHOM_OPS_HOST") or "127.0.0.1",
        webhook_allow_loopback=_flag(env, "FATHOM_WEBHOOK_ALLOW_LOOPBACK", default=False),
        trim_consumed_events=_flag(env, "FATHOM_TRIM_CONSUMED_EVENTS", default=True),
        webhook_key=env.get("FATHOM_WEBHOOK_KEY") or None,
        webhook_key_path=Path(env.get("FATHOM_WEBHOOK_KEY_FILE", ".fathom/webhook-key")),
        webhook_max_per_trust=_count(env, "FATHOM_WEBHOOK_MAX_PER_TRUST", 10),
        webhook_workers=_count(env, "FATHOM_WEBHOOK_WORKERS", 4),
        **_broker_settings(env),
        change_retention_days=_count(env, "FATHOM_CHANGE_RETENTION_DAYS", 90),
        background_nice=_at_most(env, "FATHOM_BACKGROUND_NICE", 19, 19),
        change_topic_retention_bytes=_count(env, "FATHOM_CHANGE_TOPIC_RETENTION_BYTES", 0) or None,
        fair_use={kind: FairUseLimit.parse(env[f"FATHOM_LIMIT_{kind.upper()}"])
                  if env.get(f"FATHOM_LIMIT_{kind.upper()}") else default
                  for kind, default in FAIR_USE_DEFAULTS.items()},
        fair_use_retry_after_s=_count(env, "FATHOM_LIMIT_RETRY_AFTER", 2),
        verify_inline_max_events=_count(env, "FATHOM_VERIFY_INLINE_MAX_EVENTS", 20000),
        stream_url=(env.get("FATHOM_STREAM_URL") or "").rstrip("/") or None,
        read_cache_bytes=_count(env, "FATHOM_READ_CACHE_BYTES", 64 * 1024 * 1024),
    )


# Each reads one setting by name (unset or empty: the default) and refuses a value it cannot mean, naming the
# setting: a typo must stop the process at start, never quietly mean something else.

def _flag(env: dict[str, str], name: str, *, default: bool) -> bool:
    value = env.get(name) or ""
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a yes/no setting, got {value!r}")


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _at_most(env: dict[str, str], name: str, default: int, most: int) -> int:
    number = _count(env, name, default)
    if number > most:
        raise ValueError(f"{name} must be {most} or less, got {number}")
    return number


def _count(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name) or ""
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must be 0 or more, got {value!r}")
    return number
