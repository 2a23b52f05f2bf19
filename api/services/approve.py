"""Approve a return that waits for an admin's decision."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from domain.models import ReturnState
from workflows.contracts import APPROVE


async def approve(db: AsyncSession, temporal: Client, rid: str, who: Staff) -> ReturnState:
    return await change(db, temporal, rid, who, APPROVE, who.name)
