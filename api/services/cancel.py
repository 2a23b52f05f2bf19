"""Cancel a return: the shopper whose it is, or an admin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import Actor, by, change
from api.services.errors import ServiceError
from domain.models import ReturnState
from workflows.contracts import CANCEL


async def cancel(db: AsyncSession, temporal: Client, rid: str, who: Actor) -> ReturnState:
    if isinstance(who, Staff) and "admin" not in who.roles:
        raise ServiceError(403, "Authorization: only the shopper or an admin can cancel a return")
    return await change(db, temporal, rid, who, CANCEL, by(who))
