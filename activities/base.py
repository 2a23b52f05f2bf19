"""What every activity class shares: settings, a session factory for PostgreSQL, and how a value the database
refuses is reported."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import psycopg
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from db.engine import get_engine, get_sessionmaker
from settings import Settings

# The failure type of an activity whose input the database (or UTF-8) cannot take: workflows catch it by this name.
BAD_DATA = "BadData"

P = ParamSpec("P")
R = TypeVar("R")


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


def refused_data(e: BaseException) -> BaseException | None:
    """The refusal of a value itself inside `e` (NUL in text or jsonb, a lone surrogate, a number out of range, a
    string too long for its column), or None when `e` is something a retry may get past."""
    # SQLAlchemy wraps the driver's exception (StatementError.orig): the driver's names the problem best.
    for cause in (getattr(e, "orig", None) if isinstance(e, StatementError) else None, e):
        if isinstance(cause, DataError | psycopg.DataError | UnicodeError):
            return cause
    return None


def bad_data_is_final(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Fail for good, as BAD_DATA, when the database refuses the input: the same input is refused at every attempt,
    and under the workflows' retry policy (retry until the outside system is back) it was retried forever."""

    @functools.wraps(fn)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except Exception as e:
            refused = refused_data(e)
            if refused is None:
                raise
            raise ApplicationError(f"{type(refused).__name__}: {refused}".splitlines()[0][:300], type=BAD_DATA,
                                   non_retryable=True) from e  # fmt: skip

    return guarded
