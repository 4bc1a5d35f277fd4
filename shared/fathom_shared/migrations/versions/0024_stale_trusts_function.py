"""``stale_trusts(grace_s, asked)``: the catch-up sweep's question about every trust, answered in one round trip.

Every few seconds the projector's sweep asks each trust whether its oldest unprojected event has waited longer
than the grace period (:func:`fathom_projector.trust_batch.stale_trusts`). Asked from Python, that was one
statement per trust: even sent in one pipeline, each answer had to be read by the projector's interpreter, which
it shares with kafka-python's network threads. While the broker is frozen those threads keep the interpreter busy,
and with 8,000 trusts one pass took 110 s (1.8 s before the freeze), so the read models the sweep exists to carry
through an outage stood still (``tests/reliability/test_projection_while_broker_frozen.py``).

Here the database loops over the trusts itself. Each trust is still asked as itself (``fathom.trust`` set for it,
restored afterwards: row-level security is forced on ``rm_positions`` and ``events``, the owner included), and
every statement inside names its trust, so under distribution by trust each is routed to the trust's shard. The
answer is only which trusts are behind: the application role may already name any trust and set itself as it.
``SECURITY DEFINER`` with a fixed ``search_path``, as ``0019``'s functions; executable by the application role only.

Adding a function changes nothing for code already running, so it can be deployed before the projector that calls
it.

Revision ID: 0024_stale_trusts_function
"""

from __future__ import annotations

from alembic import op

revision = "0024_stale_trusts_function"
down_revision = "0023_class_memberships_index"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION stale_trusts(grace_s double precision, asked text[] DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    previous text := current_setting('fathom.trust', true);
    cutoff timestamptz := now() - make_interval(secs => grace_s);
    candidate text;
    oldest timestamptz;
BEGIN
    FOR candidate IN SELECT trust_id FROM trusts WHERE asked IS NULL OR trust_id = ANY(asked) ORDER BY trust_id LOOP
        PERFORM set_config('fathom.trust', candidate, true);
        SELECT e.recorded_at INTO oldest FROM events e
        WHERE e.trust_id = candidate
          AND e.sequence > coalesce((SELECT p.last_applied FROM rm_positions p WHERE p.trust_id = candidate), 0)
        ORDER BY e.sequence LIMIT 1;
        IF oldest < cutoff THEN
            RETURN NEXT candidate;
        END IF;
    END LOOP;
    PERFORM set_config('fathom.trust', coalesce(previous, ''), true);
END $$;
REVOKE ALL ON FUNCTION stale_trusts(double precision, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stale_trusts(double precision, text[]) TO fathom_app;
"""

DOWNGRADE = "DROP FUNCTION IF EXISTS stale_trusts(double precision, text[])"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
