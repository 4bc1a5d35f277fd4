#!/bin/sh
# The primary's side of streaming replication, idempotent (run by the image on a new data directory from
# /docker-entrypoint-initdb.d; on an existing one, run it by hand as
# `docker compose exec postgres sh /docker-entrypoint-initdb.d/10-replication.sh` and reload):
#   - the role the standby connects as (REPLICATION, nothing else; password FATHOM_REPLICATION_PASSWORD),
#   - a physical replication slot, so the primary keeps the WAL the standby has not received yet,
#   - a pg_hba.conf line letting that role, and only it, open replication connections with SCRAM.
set -eu
role=${FATHOM_REPLICATION_ROLE:-fathom_replicator}
slot=${FATHOM_REPLICATION_SLOT:-reports_replica}
: "${FATHOM_REPLICATION_PASSWORD:?set FATHOM_REPLICATION_PASSWORD}"

# The password travels as a psql variable (:'password' quotes it), never spliced into the SQL text.
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v role="$role" -v slot="$slot" -v password="$FATHOM_REPLICATION_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION PASSWORD %L', :'role', :'password') \gexec
SELECT pg_create_physical_replication_slot(:'slot')
WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
SQL

hba="${PGDATA:-/var/lib/postgresql/data}/pg_hba.conf"
line="host replication $role all scram-sha-256"
grep -qxF "$line" "$hba" || printf '%s\n' "$line" >> "$hba"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -c 'SELECT pg_reload_conf()' >/dev/null
echo "replication role $role, slot $slot and its pg_hba.conf line are in place"
