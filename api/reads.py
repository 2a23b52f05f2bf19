"""What every request and every status poll reads, on a reader connection (db.engine.read): no session, no
transaction. A status read was four round trips (BEGIN, the token, the row, ROLLBACK) plus the pool's ping,
and a loaded API's event loop served other requests at each of them: under load that waiting, not the
queries, made up its tail latency."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Shopper, Staff, console_staff, resolve
from db.engine import read
from db.models import ReturnRow
from settings import Settings

RETURN_STATE = select(ReturnRow.state, ReturnRow.order_number).where(ReturnRow.id == bindparam("rid"))


async def principal_of(settings: Settings, token: str) -> Staff | Shopper | None:
    return await read(settings.resolved_database_url(), lambda conn: resolve(conn, token))


async def console_staff_of(settings: Settings, session_id: str) -> Staff | None:
    """Who a staff console cookie signs in: one SELECT, like a bearer token's."""
    return await read(settings.resolved_database_url(), lambda conn: console_staff(conn, session_id))


def may_see(who: Staff | Shopper, order_number: str) -> bool:
    """Staff see every return, a shopper those of their order; for anyone else a return does not exist."""
    return not isinstance(who, Shopper) or order_number == who.order_number


async def visible_state(settings: Settings, rid: str, who: Staff | Shopper) -> dict[str, Any] | None:
    """The return's read-model state (domain.models.ReturnState as JSON) if `who` may see it (`may_see`)."""

    async def fetch(conn: AsyncConnection) -> Any:
        return (await conn.execute(RETURN_STATE, {"rid": rid})).first()

    row = await read(settings.resolved_database_url(), fetch)
    if row is None or not may_see(who, row.order_number):
        return None
    return row.state
