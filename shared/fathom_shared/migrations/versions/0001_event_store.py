"""Event store, command-side roster/framework, idempotency, relay position, read models.

Row-level security is enabled *and forced* on every tenant table: the services connect
as ``fathom_app`` (not the owner) and set ``fathom.trust`` per transaction, so a query
that forgets its trust sees nothing rather than everything.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

from fathom_shared.migrations.tenancy import isolate_tenant_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = [
    "trust_heads", "events", "idempotency_keys", "relay_positions",
    "schools", "classes", "pupils", "pupil_personal", "scales", "objectives",
    "rm_positions", "rm_schools", "rm_classes", "rm_pupils", "rm_scales", "rm_objectives",
    "rm_pupil_objective", "rm_class_taught", "rm_interventions", "dead_letters",
]

DDL = """
CREATE TABLE trusts (
    trust_id    text PRIMARY KEY CHECK (trust_id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Per-trust head of the log: locking this row serialises appends of one trust only.
CREATE TABLE trust_heads (
    trust_id       text PRIMARY KEY REFERENCES trusts,
    last_sequence  bigint NOT NULL DEFAULT 0,
    last_hash      bytea NOT NULL DEFAULT ''::bytea
);

CREATE TABLE events (
    trust_id        text NOT NULL REFERENCES trusts,
    sequence        bigint NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    stream_type     text NOT NULL,
    stream_id       text NOT NULL,
    stream_version  integer NOT NULL CHECK (stream_version > 0),
    event_type      text NOT NULL,
    schema_version  integer NOT NULL DEFAULT 1,
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    PRIMARY KEY (trust_id, sequence),
    UNIQUE (trust_id, stream_type, stream_id, stream_version)
);

CREATE TABLE idempotency_keys (
    trust_id      text NOT NULL REFERENCES trusts,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trust_id, key)
);

CREATE TABLE relay_positions (
    trust_id            text PRIMARY KEY REFERENCES trusts,
    published_sequence  bigint NOT NULL DEFAULT 0
);

-- Command-side state the API validates against; kept in step with the events it appends
-- in the same transaction. Names and other personal details live only in pupil_personal.
CREATE TABLE schools (
    trust_id   text NOT NULL REFERENCES trusts,
    school_id  text NOT NULL,
    name       text NOT NULL,
    PRIMARY KEY (trust_id, school_id)
);
CREATE TABLE classes (
    trust_id       text NOT NULL,
    class_id       text NOT NULL,
    school_id      text NOT NULL,
    name           text NOT NULL,
    year_group     integer NOT NULL,
    academic_year  text NOT NULL,
    PRIMARY KEY (trust_id, class_id),
    FOREIGN KEY (trust_id, school_id) REFERENCES schools
);
CREATE TABLE pupils (
    trust_id       text NOT NULL,
    pupil_id       text NOT NULL,
    school_id      text NOT NULL,
    class_id       text,
    year_group     integer NOT NULL,
    groups         jsonb NOT NULL,
    PRIMARY KEY (trust_id, pupil_id),
    FOREIGN KEY (trust_id, school_id) REFERENCES schools,
    FOREIGN KEY (trust_id, class_id) REFERENCES classes
);
CREATE TABLE pupil_personal (
    trust_id       text NOT NULL,
    pupil_id       text NOT NULL,
    given_name     text,
    family_name    text,
    date_of_birth  date,
    upn            text,
    PRIMARY KEY (trust_id, pupil_id),
    FOREIGN KEY (trust_id, pupil_id) REFERENCES pupils
);
CREATE TABLE scales (
    trust_id  text NOT NULL REFERENCES trusts,
    scale_id  text NOT NULL,
    name      text NOT NULL,
    bands     jsonb NOT NULL,
    PRIMARY KEY (trust_id, scale_id)
);
CREATE TABLE objectives (
    trust_id      text NOT NULL,
    objective_id  text NOT NULL,
    code          text NOT NULL,
    subject       text NOT NULL,
    year_group    integer NOT NULL,
    strand        text,
    text          text NOT NULL,
    weight        numeric,
    scale_id      text NOT NULL,
    retired       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (trust_id, objective_id),
    FOREIGN KEY (trust_id, scale_id) REFERENCES scales
);

-- Read models: written only by the projector, rebuilt from the event store at will.
CREATE TABLE rm_positions (
    trust_id      text PRIMARY KEY,
    last_applied  bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE rm_schools (
    trust_id text NOT NULL, school_id text NOT NULL, name text NOT NULL,
    PRIMARY KEY (trust_id, school_id)
);
CREATE TABLE rm_classes (
    trust_id text NOT NULL, class_id text NOT NULL, school_id text NOT NULL, name text NOT NULL,
    year_group integer NOT NULL, academic_year text NOT NULL,
    PRIMARY KEY (trust_id, class_id)
);
CREATE TABLE rm_pupils (
    trust_id text NOT NULL, pupil_id text NOT NULL, school_id text NOT NULL, class_id text,
    year_group integer NOT NULL, groups jsonb NOT NULL,
    PRIMARY KEY (trust_id, pupil_id)
);
CREATE INDEX rm_pupils_class ON rm_pupils (trust_id, class_id);
CREATE TABLE rm_scales (
    trust_id text NOT NULL, scale_id text NOT NULL, name text NOT NULL, bands jsonb NOT NULL,
    PRIMARY KEY (trust_id, scale_id)
);
CREATE TABLE rm_objectives (
    trust_id text NOT NULL, objective_id text NOT NULL, code text NOT NULL, subject text NOT NULL,
    year_group integer NOT NULL, strand text, text text NOT NULL, weight numeric, scale_id text NOT NULL,
    retired boolean NOT NULL DEFAULT false,
    PRIMARY KEY (trust_id, objective_id)
);
CREATE INDEX rm_objectives_year ON rm_objectives (trust_id, year_group);
-- The heat map: the latest judgement of each pupil on each objective.
CREATE TABLE rm_pupil_objective (
    trust_id      text NOT NULL,
    pupil_id      text NOT NULL,
    objective_id  text NOT NULL,
    value         integer NOT NULL,
    assessed_on   date NOT NULL,
    source        text NOT NULL,
    note          text,
    event_id      uuid NOT NULL,
    sequence      bigint NOT NULL,
    PRIMARY KEY (trust_id, pupil_id, objective_id)
);
CREATE TABLE rm_class_taught (
    trust_id text NOT NULL, class_id text NOT NULL, objective_id text NOT NULL, taught_on date NOT NULL,
    PRIMARY KEY (trust_id, class_id, objective_id, taught_on)
);
CREATE TABLE rm_interventions (
    trust_id text NOT NULL, intervention_id text NOT NULL, name text NOT NULL, lead text NOT NULL,
    start_date date NOT NULL, pupil_ids jsonb NOT NULL, objective_ids jsonb NOT NULL,
    PRIMARY KEY (trust_id, intervention_id)
);
CREATE TABLE dead_letters (
    trust_id     text NOT NULL,
    sequence     bigint NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    reason       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trust_id, sequence)
);
"""


def upgrade() -> None:
    op.execute(DDL)
    password = op.get_context().config.attributes.get("app_password", "fathom_app").replace("'", "''")
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fathom_app') THEN
                CREATE ROLE fathom_app LOGIN PASSWORD '{password}';
            END IF;
        END $$;
        """
    )
    op.execute("GRANT SELECT ON trusts TO fathom_app")
    for table in TENANT_TABLES:
        isolate_tenant_table(table)
    # The log is append-only for the application: no UPDATE or DELETE on events.
    op.execute("REVOKE UPDATE, DELETE ON events FROM fathom_app")


def downgrade() -> None:
    for table in [*reversed(TENANT_TABLES), "trusts"]:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
