"""Alembic environment: run with the engine that aula_ws.store.database hands over."""

from alembic import context

from aula_ws.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
