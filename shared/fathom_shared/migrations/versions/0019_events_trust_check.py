"""The ``events`` → ``trusts`` reference checked once per statement instead of once per row.

The foreign key ran its check for every appended row: a lookup of the trust and a ``FOR KEY SHARE`` lock
of its row, 300 times for a batch of 300 events of one trust (about a millisecond of PostgreSQL's CPU per
batch, an eighth of its work on an append). The same guarantee is kept by triggers:

- after each ``INSERT`` (or ``UPDATE``) statement on ``events``, every distinct trust of its rows must be a
  row of ``trusts``, locked ``FOR KEY SHARE`` until the transaction ends, as the foreign key locked it (so a
  concurrent delete of that trust waits, then sees the events); otherwise ``foreign_key_violation`` (23503),
  the foreign key's error;
- before a ``DELETE`` of a trust, or a change of its ``trust_id``, the trust must have no events; otherwise
  ``foreign_key_violation``. ``events`` has forced row-level security, so the check looks under that trust's
  setting (restored afterwards), as the owner.

The functions run as their owner (``SECURITY DEFINER``, a fixed ``search_path``): the application role may
read ``trusts`` but not lock its rows.

Revision ID: 0019_events_trust_check
"""

from __future__ import annotations

from alembic import op

revision = "0019_events_trust_check"
down_revision = "0018_events_unused_indexes"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE events DROP CONSTRAINT events_trust_id_fkey;

CREATE FUNCTION events_trusts_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    named text[];
    found integer;
BEGIN
    SELECT array_agg(DISTINCT trust_id) INTO named FROM written;
    IF named IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO found FROM (SELECT 1 FROM trusts WHERE trust_id = ANY(named) FOR KEY SHARE) locked;
    IF found <> cardinality(named) THEN
        RAISE EXCEPTION 'insert or update on table "events" violates the reference to "trusts"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = 'An event names a trust that does not exist.';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION events_trusts_exist() FROM PUBLIC;

CREATE TRIGGER events_trusts_exist_insert AFTER INSERT ON events REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION events_trusts_exist();
CREATE TRIGGER events_trusts_exist_update AFTER UPDATE ON events REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION events_trusts_exist();

CREATE FUNCTION trusts_keep_their_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    previous text := current_setting('fathom.trust', true);
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.trust_id = OLD.trust_id THEN
        RETURN NEW;
    END IF;
    PERFORM set_config('fathom.trust', OLD.trust_id, true);
    SELECT EXISTS (SELECT 1 FROM events WHERE trust_id = OLD.trust_id) INTO referenced;
    PERFORM set_config('fathom.trust', coalesce(previous, ''), true);
    IF referenced THEN
        RAISE EXCEPTION 'update or delete on table "trusts" violates the reference from "events"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Trust %s has events.', OLD.trust_id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION trusts_keep_their_events() FROM PUBLIC;

CREATE TRIGGER trusts_keep_their_events BEFORE DELETE OR UPDATE OF trust_id ON trusts
    FOR EACH ROW EXECUTE FUNCTION trusts_keep_their_events();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS trusts_keep_their_events ON trusts;
DROP FUNCTION IF EXISTS trusts_keep_their_events();
DROP TRIGGER IF EXISTS events_trusts_exist_insert ON events;
DROP TRIGGER IF EXISTS events_trusts_exist_update ON events;
DROP FUNCTION IF EXISTS events_trusts_exist();
ALTER TABLE events ADD CONSTRAINT events_trust_id_fkey FOREIGN KEY (trust_id) REFERENCES trusts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
