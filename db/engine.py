"""One async engine per database URL, and a session factory bound to it."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool


@lru_cache
def get_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """pre_ping tests each connection as it leaves the pool, a round trip per transaction, so that a request after a
    database restart is answered rather than failed. Activities go without (one return makes a dozen transactions):
    the first that meets a dead connection fails, the pool drops all of them, and the activity's retry goes through."""
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=pre_ping)


@lru_cache
def get_sessionmaker(url: str, *, pre_ping: bool = True) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(url, pre_ping=pre_ping), expire_on_commit=False)


@lru_cache
def get_unpooled_engine(url: URL) -> AsyncEngine:
    """Connections outside the pool, for work a caller must do while it already holds a pooled connection:
    twenty such callers at once would otherwise each wait for a second one that never frees."""
    return create_async_engine(url, poolclass=NullPool)
