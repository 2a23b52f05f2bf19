"""A policy version in force for the length of a test, for the workflow tests (the claim reads the current one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db.engine import get_sessionmaker
from db.policy_store import current_policy, save_policy


@asynccontextmanager
async def policy(settings, **changes: object) -> AsyncIterator[None]:
    """Put a policy version with `changes` in force, then the one before it back (as a newer version): other
    tests share the database."""
    sessions = get_sessionmaker(settings.resolved_database_url())
    async with sessions.begin() as s:
        before = (await current_policy(s, settings.policy)).policy
        await save_policy(s, before.model_copy(update=changes), "workflow tests", settings.policy)
    try:
        yield
    finally:
        async with sessions.begin() as s:
            await save_policy(s, before, "workflow tests", settings.policy)
