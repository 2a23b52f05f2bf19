"""Opening a portal session from order number + e-mail, rate-limited so neither can be guessed.

Failures are counted per client address and per order number over a sliding window in PostgreSQL,
so the limit holds across API processes; past the limit the answer is 429 with Retry-After.

A wrong pair is counted under a transaction-scoped advisory lock per key, and the count is read again once the
lock is held: without it, 30 guesses sent at once all read "no failures yet" and all were checked. A right pair
takes no lock (the sign-in every shopper makes stays as fast as it was): it is judged by the failures recorded
before its read, as if it had come before the guesses still in flight, and those are still held to the limit.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.auth import create_portal_session
from api.services.errors import ServiceError
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
# The two-key form keeps these locks apart from the one-key ones elsewhere (db.policy_store). Taken one key at a
# time in one order (sorted: "ip:" before "order:"), so two sign-ins never wait on each other's second lock.
LOCK_SPACE = 0x52564F  # "RVO"
LOCK = text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), hashtext(:key))")


def order_key(number: str) -> str:
    """The order's rate-limit key. Upper-casing can lengthen a number ("ß" is "SS"), and a 200-character one then
    no longer fits the key column: such numbers are counted by digest."""
    key = f"order:{number.upper()}"
    return key if len(key) <= 250 else "order#" + hashlib.sha256(number.upper().encode()).hexdigest()


async def open_session(
    db: AsyncSession, settings: Settings, number: str, email: str, client: str
) -> tuple[str, datetime]:
    """A session token for the order; 404 for a wrong pair (either half), 429 after too many.

    Every shopper visit starts here, so the checks are two statements on a reader connection and the session a
    single INSERT: a transaction around them cost the API's event loop four more round trips (db.engine.read)."""
    window = timedelta(minutes=settings.portal_failure_window_minutes)
    limits = {
        f"ip:{client}": settings.portal_failures_per_client,
        order_key(number): settings.portal_failures_per_order,
    }
    now = datetime.now(UTC)

    async def look(conn: AsyncConnection) -> tuple[list[Any], str | None]:
        failures = list(await conn.execute(FAILURES, {"keys": list(limits), "since": now - window}))
        return failures, await conn.scalar(ORDER_EMAIL, {"number": number})

    failures, order_email = await read(settings.resolved_database_url(), look)
    refuse_if_locked(failures, limits, window, now)
    # One answer for a wrong number and a wrong e-mail, so neither can be probed alone.
    if order_email is None or order_email != email.strip().lower():
        await count_failure(db, limits, window)
        raise ServiceError(404, NOT_FOUND)
    async with get_autocommit_engine(settings.resolved_database_url()).connect() as conn:
        return await create_portal_session(conn, number, settings.portal_session_hours)


def refuse_if_locked(failures: list[Any], limits: dict[str, int], window: timedelta, now: datetime) -> None:
    """429 when a key has used up its failures; Retry-After is the seconds until its oldest one leaves the window."""
    waits = [max(1, int((oldest + window - now).total_seconds()) + 1) for key, count, oldest in failures
             if count >= limits[key]]  # fmt: skip
    if waits:
        wait = max(waits)
        minutes = math.ceil(wait / 60)
        raise ServiceError(429, f"too many attempts; try again in {minutes} minute{'' if minutes == 1 else 's'}",
                           headers={"Retry-After": str(wait)})  # fmt: skip


async def count_failure(db: AsyncSession, limits: dict[str, int], window: timedelta) -> None:
    """Record a wrong pair against both keys, or 429 if parallel guesses used up a limit since the first read."""
    for key in sorted(limits):
        await db.execute(LOCK, {"space": LOCK_SPACE, "key": key})
    now = datetime.now(UTC)
    try:
        refuse_if_locked(list(await db.execute(FAILURES, {"keys": list(limits), "since": now - window})), limits,
                         window, now)  # fmt: skip
    except ServiceError:
        await db.rollback()  # gives the locks back now rather than when the request's session closes
        raise
    db.add_all(PortalFailure(key=key) for key in limits)
    await db.execute(delete(PortalFailure).where(PortalFailure.at < now - window))
    await db.commit()
