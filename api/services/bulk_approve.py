"""Approve several returns at once (the admin list's bulk action): each one as api.services.approve would, each
result reported on its own; a return not waiting for approval is left as it is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.approve import approve
from api.services.errors import ServiceError
from db.models import ReturnRow
from domain.models import Strict
from domain.text import ReturnId

MOST_AT_ONCE = 100
Outcome = Literal["approved", "not_pending", "not_found"]


class BulkApproveIn(Strict):
    ids: Annotated[list[ReturnId], Field(min_length=1, max_length=MOST_AT_ONCE)]

    @field_validator("ids")
    @classmethod
    def _once_each(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(x.upper() for x in v))


class BulkResult(BaseModel):
    id: str
    outcome: Outcome
    status: str | None  # the return's status after the attempt (None: no such return)
    detail: str  # why it was not approved; "" when it was


async def bulk_approve(db: AsyncSession, temporal: Client, ids: list[str], who: Staff) -> list[BulkResult]:
    """Each return's workflow decides whether it still waits for approval (the read model may lag it), so a
    refusal there (409) is "not_pending"; an engine that cannot be reached stops the whole batch (503)."""
    results = []
    for rid in ids:
        try:
            state = await approve(db, temporal, rid, who)
        except ServiceError as e:
            if e.status == 404:
                results.append(BulkResult(id=rid, outcome="not_found", status=None, detail=e.text))
                continue
            if e.status not in (409, 422):
                raise
            row = await db.get(ReturnRow, rid)
            results.append(BulkResult(id=rid, outcome="not_pending", status=row.status if row else None,
                                      detail=e.text))  # fmt: skip
            continue
        results.append(BulkResult(id=rid, outcome="approved", status=state.status, detail=""))
    return results
