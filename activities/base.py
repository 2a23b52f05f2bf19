"""What every activity class shares: settings and a session factory for PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import get_engine, get_sessionmaker
from settings import Settings


class ActivityBase:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        # Resolved lazily so a worker starts even while PostgreSQL is still coming up.
        if self._sessions is None:
            self._sessions = get_sessionmaker(self.settings.resolved_database_url(), pre_ping=False)
        return self._sessions

    @property
    def engine(self) -> AsyncEngine:
        """Core connections, for the statements every return runs many times: without the ORM session's
        bookkeeping they cost about a sixth less CPU."""
        return get_engine(self.settings.resolved_database_url(), pre_ping=False)
