"""Persistence: SQLAlchemy models, the engine, Alembic migrations and query helpers."""
