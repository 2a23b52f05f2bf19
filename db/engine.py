"""One async engine per database URL, and a session factory bound to it.

Every engine's errors leave out the values a statement carried (e-mail addresses, names, tokens): SQLAlchemy's
`[parameters: ...]` line, and PostgreSQL's own DETAIL ("Key (email)=(ana@example.com) already exists", "Failing
row contains (...)") and the value it quotes in a data error. A failing activity's exception is logged and stored
in the workflow's history at every retry; the SQLSTATE, the driver's class and the constraint still name the cause.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from sqlalchemy import URL, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

# In a data exception (SQLSTATE class 22) the quoted part is the refused input: 'invalid input syntax for type
# integer: "ana@example.com"'. Elsewhere quotes hold names of constraints, columns and tables, kept.
_QUOTED = re.compile(r'"[^"]*"')


def _without_values(context: ExceptionContext) -> None:
    """The server's message cut to its first line (no DETAIL, CONTEXT or HINT), in the driver's exception and in
    SQLAlchemy's wrapper of it; the exception classes, and so every `except`, stay as they were."""
    orig = context.original_exception
    if not isinstance(orig, psycopg.Error) or orig.pgresult is None or len(orig.args) != 1:
        return
    full, primary = str(orig), orig.diag.message_primary or ""
    safe = _QUOTED.sub('"..."', primary) if (orig.sqlstate or "").startswith("22") else primary
    if safe == full:
        return
    orig.args = (safe,)
    wrapper = context.sqlalchemy_exception
    if wrapper is not None and len(wrapper.args) == 1 and isinstance(wrapper.args[0], str):
        wrapper.args = (wrapper.args[0].replace(full, safe),)


def _engine(url: str | URL, **options: Any) -> AsyncEngine:
    engine = create_async_engine(url, hide_parameters=True, **options)
    event.listen(engine.sync_engine, "handle_error", _without_values)
    return engine


@lru_cache
def get_engine(url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """pre_ping tests each connection as it leaves the pool, a round trip per transaction, so that a request after a
    database restart is answered rather than failed. Activities go without (one return makes a dozen transactions):
    the first that meets a dead connection fails, the pool drops all of them, and the activity's retry goes through."""
    return _engine(url, pool_size=10, max_overflow=10, pool_pre_ping=pre_ping)


@lru_cache
def get_sessionmaker(url: str, *, pre_ping: bool = True) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(url, pre_ping=pre_ping), expire_on_commit=False)


@lru_cache
def get_autocommit_engine(url: str) -> AsyncEngine:
    """For a statement or two that need no transaction around them (the API's reads, a single INSERT): without
    BEGIN, ROLLBACK and the pre-ping, each a round trip in which a loaded API loses its turn (`read` retries
    instead of pinging). A connection is held for one or two statements, so ten serve a process's event loop."""
    return _engine(url, pool_size=5, max_overflow=5, isolation_level="AUTOCOMMIT")


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
    return _engine(url, poolclass=NullPool)
