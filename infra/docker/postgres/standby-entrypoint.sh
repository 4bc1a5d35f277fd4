#!/bin/sh
# Entry point of the hot standby (the official postgres image's, after one first-start step): when
# PGDATA holds no cluster yet, clone the primary with `pg_basebackup -R` (which writes standby.signal
# and primary_conninfo, so the server starts as a standby streaming from the primary through the
# replication slot), then hand over to the image's own entry point, which starts PostgreSQL.
#
# A clone that did not finish (the container stopped half-way) is marked by a file beside PGDATA and
# redone from scratch on the next start; a finished clone is never touched again, even once promoted.
set -eu
: "${PGDATA:?}"
: "${FATHOM_PRIMARY_HOST:?}"
: "${FATHOM_REPLICATION_PASSWORD:?set FATHOM_REPLICATION_PASSWORD}"
role=${FATHOM_REPLICATION_ROLE:-fathom_replicator}
slot=${FATHOM_REPLICATION_SLOT:-reports_replica}
marker="$(dirname "$PGDATA")/clone-incomplete"

as_postgres() {  # the image starts this script as root; PostgreSQL's files belong to its postgres user
    if [ "$(id -u)" = 0 ]; then gosu postgres "$@"; else "$@"; fi
}

if [ ! -s "$PGDATA/PG_VERSION" ] || [ -e "$marker" ]; then
    echo "standby: cloning $FATHOM_PRIMARY_HOST into $PGDATA (slot $slot)"
    touch "$marker"
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDATA" "$marker"; fi
    chmod 700 "$PGDATA"
    # The password reaches pg_basebackup through its environment (PGPASSWORD), never its arguments; -R
    # (--write-recovery-conf) keeps it in primary_conninfo, so the standby can reconnect after a restart.
    (
        export PGPASSWORD="$FATHOM_REPLICATION_PASSWORD"
        as_postgres pg_basebackup --host "$FATHOM_PRIMARY_HOST" --port "${FATHOM_PRIMARY_PORT:-5432}" \
            --username "$role" --pgdata "$PGDATA" --write-recovery-conf --slot "$slot" --wal-method stream \
            --checkpoint fast --no-password
    )
    rm -f "$marker"
    echo "standby: clone complete"
fi
exec docker-entrypoint.sh "$@"
