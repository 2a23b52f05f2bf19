"""Alembic environment: migrations run over a plain psycopg (sync) connection."""

from alembic import context
from sqlalchemy import create_engine, pool

from db.models import Base

url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("alembic: no database url (pass attributes['url'] or set sqlalchemy.url)")
engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)  # as db.engine: no values in a log
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
