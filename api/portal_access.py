"""Opening a portal session from order number + e-mail, rate-limited so neither can be guessed.

Failures are counted per client address and per order number over a sliding window in PostgreSQL,
so the limit holds across API processes; past the limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import HTTPException
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import create_portal_session
from db.models import PortalFailure
from db.queries import get_order
from settings import Settings

NOT_FOUND = "no order with this number and e-mail"


async def _retry_after(db: AsyncSession, key: str, limit: int, window: timedelta) -> int | None:
    """Seconds until `key` may try again, or None when it is under its limit."""
    since = datetime.now(UTC) - window
    count, oldest = (
        await db.execute(
            select(func.count(), func.min(PortalFailure.at)).where(PortalFailure.key == key, PortalFailure.at > since)
        )
    ).one()
    if count < limit:
        return None
    return max(1, int((oldest + window - datetime.now(UTC)).total_seconds()) + 1)


async def open_session(
    db: AsyncSession, settings: Settings, number: str, email: str, client: str
) -> tuple[str, datetime]:
    """A session token for the order; 404 for a wrong pair (either half), 429 after too many."""
    window = timedelta(minutes=settings.portal_failure_window_minutes)
    keys = {
        f"ip:{client}": settings.portal_failures_per_client,
        f"order:{number.upper()}": settings.portal_failures_per_order,
    }
    waits = [w for key, limit in keys.items() if (w := await _retry_after(db, key, limit, window)) is not None]
    if waits:
        raise HTTPException(429, "too many attempts; try again later", headers={"Retry-After": str(max(waits))})
    order = await get_order(db, number)
    # One answer for a wrong number and a wrong e-mail, so neither can be probed alone.
    if order is None or order.email != email.strip().lower():
        db.add_all(PortalFailure(key=key) for key in keys)
        await db.execute(delete(PortalFailure).where(PortalFailure.at < datetime.now(UTC) - window))
        await db.commit()
        raise HTTPException(404, NOT_FOUND)
    token, expires = await create_portal_session(db, order.number, settings.portal_session_hours)
    await db.commit()
    return token, expires
