"""For admins: the return policy document, read and replaced; each replacement is a new version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel

from api.deps import Admin, AppSettings, DbSession
from api.errors import errors
from api.policy_access import get_stored_policy
from db.policy_store import StoredPolicy, policy_version, save_policy
from domain.bounds import Version
from domain.policy import PolicySettings
from domain.policy_document import PolicyDocument, parse

router = APIRouter(prefix="/api/v1/policy", tags=["policy"], responses=errors(401, 403, 404, 422, 503))


class PolicyOut(BaseModel):
    version: int
    created_by: str
    created_at: datetime
    document: PolicySettings


def _out(stored: StoredPolicy) -> PolicyOut:
    return PolicyOut(version=stored.version, created_by=stored.created_by, created_at=stored.created_at,
                     document=stored.policy)  # fmt: skip


@router.get("", response_model=PolicyOut)
async def get_policy(_: Admin, stored: Annotated[StoredPolicy, Depends(get_stored_policy)]) -> PolicyOut:
    """The policy in force. New returns are decided under it and record its version."""
    return _out(stored)


@router.put("", response_model=PolicyOut)
async def replace_policy(body: PolicyDocument, who: Admin, db: DbSession, settings: AppSettings) -> PolicyOut:
    """Replace the whole document (keys left out take their defaults); returns filed before keep their version."""
    stored = await save_policy(db, parse(body.model_dump()), who.name, settings.policy)
    await db.commit()
    return _out(stored)


@router.get("/versions/{version}", response_model=PolicyOut)
async def get_policy_version(
    version: Annotated[Version, Path(description="1, 2, ...: as `version` in a policy or a return")],
    _: Admin,
    db: DbSession,
) -> PolicyOut:
    """An older version, e.g. the one a return was decided under (its `policy_version`)."""
    stored = await policy_version(db, version)
    if stored is None:
        raise HTTPException(404, f"version: no policy version {version}")
    return _out(stored)
