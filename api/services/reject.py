"""Reject a return that waits for an admin's decision, with the reason the shopper is told."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from domain.models import ReturnState, Strict
from domain.text import RequiredNote
from workflows.contracts import REJECT


class RejectIn(Strict):
    reason: RequiredNote


async def reject(db: AsyncSession, temporal: Client, rid: str, who: Staff, body: RejectIn) -> ReturnState:
    return await change(db, temporal, rid, who, REJECT, body.reason)
