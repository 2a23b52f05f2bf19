"""Close receiving of a return shipped in several parcels without waiting for the rest (they are logged missing)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from domain.models import ReturnState
from workflows.contracts import CLOSE_RECEIVING


async def close_receiving(db: AsyncSession, temporal: Client, rid: str, who: Staff) -> ReturnState:
    return await change(db, temporal, rid, who, CLOSE_RECEIVING, who.name)
