"""What every migration does to a tenant table: forced row-level security by ``fathom.trust``."""

from __future__ import annotations

from alembic import op


def isolate_tenant_table(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Enable and force row-level security on ``table`` (the owner is bound too), and grant the app role."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (trust_id = current_setting('fathom.trust', true)) "
        "WITH CHECK (trust_id = current_setting('fathom.trust', true))"
    )
    op.execute(f"GRANT {privileges} ON {table} TO fathom_app")
