"""What the staff consoles and the portal list: work queues, a shopper's year of returns, an order's returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RefundRow, ReturnRow, ShipmentRow


async def queue(s: AsyncSession, status: str) -> list[ReturnRow]:
    """Returns in `status`, the one waiting longest first: the warehouse's (received) and finance's queue."""
    rows = await s.scalars(select(ReturnRow).where(ReturnRow.status == status).order_by(ReturnRow.updated_at))
    return list(rows)


async def year_of_returns(s: AsyncSession, email: str) -> list[tuple[str, int, int]]:
    """(currency, count, value) of this e-mail's returns created in the last 12 months."""
    since = datetime.now(UTC) - timedelta(days=365)
    rows = await s.execute(
        select(ReturnRow.currency, func.count(), func.coalesce(func.sum(ReturnRow.refund_total + ReturnRow.store_credit_total), 0))
        .where(ReturnRow.email == email, ReturnRow.created_at >= since)
        .group_by(ReturnRow.currency)
    )  # fmt: skip
    return [(c, int(n), int(v)) for c, n, v in rows]


async def order_returns(s: AsyncSession, order_number: str) -> list[ReturnRow]:
    """The order's returns, the newest first."""
    rows = await s.scalars(
        select(ReturnRow).where(ReturnRow.order_number == order_number).order_by(ReturnRow.created_at.desc())
    )
    return list(rows)


async def inbound_qr(s: AsyncSession, return_id: str) -> bytes | None:
    """The QR code (SVG) of the return id on its live inbound label."""
    return await s.scalar(
        select(ShipmentRow.qr_svg).where(
            ShipmentRow.return_id == return_id, ShipmentRow.direction == "inbound", ShipmentRow.voided_at.is_(None)
        )
    )


async def refunded_on_order(s: AsyncSession, order_number: str) -> list[tuple[str, int]]:
    """(currency, amount) already paid back to the order's payment by all its returns (refunds that succeeded)."""
    rows = await s.execute(
        select(RefundRow.currency, func.sum(RefundRow.amount))
        .join(ReturnRow, ReturnRow.id == RefundRow.return_id)
        .where(ReturnRow.order_number == order_number, RefundRow.status == "succeeded")
        .group_by(RefundRow.currency)
    )
    return [(c, int(v)) for c, v in rows]
