"""One async engine per database URL, and a session factory bound to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
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
def get_autocommit_engine(url: str) -> AsyncEngine:
    """For a statement or two that need no transaction around them (the API's reads, a single INSERT): without
    BEGIN, ROLLBACK and the pre-ping, each a round trip in which a loaded API loses its turn (`read` retries
    instead of pinging). A connection is held for one or two statements, so ten serve a process's event loop."""
    return create_async_engine(url, pool_size=5, max_overflow=5, isolation_level="AUTOCOMMIT")


T = TypeVar("T")


async def read(url: str, query: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`query` on a reader connection; once more on a fresh one when the database had dropped it (a restart):
    the pool discards every connection of before then, and a read is safe to repeat."""
    try:
        async with get_autocommit_engine(url).connect() as conn:
            return await query(conn)
    except DBAPIError as e:
        if not e.connection_invalidated:
            raise
    async with get_autocommit_engine(url).connect() as conn:
        return await query(conn)


@lru_cache
def get_unpooled_engine(url: URL) -> AsyncEngine:
    """Connections outside the pool, for work a caller must do while it already holds a pooled connection:
    twenty such callers at once would otherwise each wait for a second one that never frees."""
    return create_async_engine(url, poolclass=NullPool)
