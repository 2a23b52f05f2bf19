"""Opening a portal session from order number + e-mail, rate-limited so neither can be guessed.

Failures are counted per client address and per order number over a sliding window in PostgreSQL,
so the limit holds across API processes; past the limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.auth import create_portal_session
from db.engine import get_autocommit_engine, read
from db.models import OrderRow, PortalFailure
from settings import Settings

NOT_FOUND = "no order with this number and e-mail"


FAILURES = (
    select(PortalFailure.key, func.count(), func.min(PortalFailure.at))
    .where(PortalFailure.key.in_(bindparam("keys", expanding=True)), PortalFailure.at > bindparam("since"))
    .group_by(PortalFailure.key)
)
ORDER_EMAIL = select(OrderRow.email).where(OrderRow.number == bindparam("number"))


async def open_session(
    db: AsyncSession, settings: Settings, number: str, email: str, client: str
) -> tuple[str, datetime]:
    """A session token for the order; 404 for a wrong pair (either half), 429 after too many.

    Every shopper visit starts here, so the checks are two statements on a reader connection and the session a
    single INSERT: a transaction around them cost the API's event loop four more round trips (db.engine.read)."""
    window = timedelta(minutes=settings.portal_failure_window_minutes)
    keys = {
        f"ip:{client}": settings.portal_failures_per_client,
        f"order:{number.upper()}": settings.portal_failures_per_order,
    }
    now = datetime.now(UTC)

    async def look(conn: AsyncConnection) -> tuple[list[Any], str | None]:
        failures = list(await conn.execute(FAILURES, {"keys": list(keys), "since": now - window}))
        return failures, await conn.scalar(ORDER_EMAIL, {"number": number})

    failures, order_email = await read(settings.resolved_database_url(), look)
    # Seconds until each key over its limit may try again.
    waits = [max(1, int((oldest + window - now).total_seconds()) + 1) for key, count, oldest in failures
             if count >= keys[key]]  # fmt: skip
    if waits:
        raise HTTPException(429, "too many attempts; try again later", headers={"Retry-After": str(max(waits))})
    # One answer for a wrong number and a wrong e-mail, so neither can be probed alone.
    if order_email is None or order_email != email.strip().lower():
        db.add_all(PortalFailure(key=key) for key in keys)
        await db.execute(delete(PortalFailure).where(PortalFailure.at < now - window))
        await db.commit()
        raise HTTPException(404, NOT_FOUND)
    async with get_autocommit_engine(settings.resolved_database_url()).connect() as conn:
        return await create_portal_session(conn, number, settings.portal_session_hours)
