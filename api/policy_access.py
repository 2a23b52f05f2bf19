"""The policy in force for a request: the highest stored version (seeded from the policy file when none is)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.deps import AppSettings, DbSession
from db.policy_store import StoredPolicy, current_policy
from domain.policy import PolicySettings


async def get_stored_policy(db: DbSession, settings: AppSettings) -> StoredPolicy:
    return await current_policy(db, settings.policy)


async def get_policy(stored: Annotated[StoredPolicy, Depends(get_stored_policy)]) -> PolicySettings:
    return stored.policy


CurrentPolicy = Annotated[PolicySettings, Depends(get_policy)]
