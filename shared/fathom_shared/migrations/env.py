"""Alembic environment: run with the owner's connection given by :func:`fathom_shared.migrate.migrate`."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
