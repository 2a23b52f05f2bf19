"""Read-side query helpers shared by the API and the CLI."""

from __future__ import annotations

from typing import Any, Literal, get_args

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InventoryItem, OrderRow, ReturnClaim, ReturnRow, ShipmentRow
from domain.models import FINAL_STATUSES, Order

# The orders a staff list may be sorted by ("-" first: descending); each ends on the id, so pages never overlap.
SORTS = {
    "updated_at": (ReturnRow.updated_at,), "created_at": (ReturnRow.created_at,), "status": (ReturnRow.status,),
    "total": (ReturnRow.refund_total + ReturnRow.store_credit_total,), "order_number": (ReturnRow.order_number,),
    "id": (),
}  # fmt: skip
Sort = Literal["updated_at", "-updated_at", "created_at", "-created_at", "status", "-status", "total", "-total",
               "order_number", "-order_number", "id", "-id"]  # fmt: skip
SORT_KEYS: tuple[str, ...] = get_args(Sort)


async def get_order(s: AsyncSession, number: str) -> Order | None:
    row = await s.get(OrderRow, number)
    return Order.model_validate(row.data) if row else None


async def claimed_quantities(s: AsyncSession, order_number: str, excluding: str = "") -> dict[str, int]:
    """Units per line held by open or completed returns of the order, but for the return `excluding`."""
    rows = await s.execute(
        select(ReturnClaim.line_id, func.sum(ReturnClaim.quantity))
        .where(ReturnClaim.order_number == order_number, ReturnClaim.released.is_(False))
        .where(ReturnClaim.return_id != excluding)
        .group_by(ReturnClaim.line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


async def return_by_tracking(s: AsyncSession, tracking_number: str) -> str | None:
    return await s.scalar(select(ShipmentRow.return_id).where(ShipmentRow.tracking_number == tracking_number))


async def list_returns(
    s: AsyncSession, status: str | None, q: str | None, limit: int, offset: int, attention: bool | None = None,
    sort: str = "-updated_at",
) -> tuple[int, list[ReturnRow]]:  # fmt: skip
    stmt = select(ReturnRow)
    if status:
        stmt = stmt.where(ReturnRow.status == status)
    if attention is not None:  # the Exceptions queue: parcels that stopped moving, carrier problems
        stmt = stmt.where(ReturnRow.attention == attention)  # `IS true` could not use ix_returns_attention
        if attention:  # a closed return (expired, cancelled, completed) needs nobody any more
            stmt = stmt.where(ReturnRow.status.not_in(FINAL_STATUSES))
    if q:
        needle = q.strip()
        # A scalar subquery (tracking numbers are unique) runs once, so each arm of the OR uses its own index;
        # `id IN (subquery)` made PostgreSQL scan every return twice (0.1-0.3 s at 30,000; bench/scale.py).
        by_tracking = (
            select(ShipmentRow.return_id).where(ShipmentRow.tracking_number == needle.upper()).scalar_subquery()
        )
        stmt = stmt.where(
            or_(
                ReturnRow.id == needle.upper(),
                ReturnRow.order_number == needle,
                ReturnRow.email == needle.lower(),
                ReturnRow.id == by_tracking,
            )
        )
    total = await s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = await s.scalars(stmt.order_by(*_order(sort)).limit(limit).offset(offset))
    return total, list(rows)


def _order(sort: str) -> list[Any]:
    descending, key = sort.startswith("-"), sort.removeprefix("-")
    columns = [*SORTS.get(key, SORTS["updated_at"]), ReturnRow.id]
    return [c.desc() if descending else c.asc() for c in columns]


async def upsert_inventory(
    s: AsyncSession,
    sku: str,
    title: str,
    unit_price: int,
    currency: str,
    available: int,
    product: str | None = None,
    options: dict[str, str] | None = None,
    image_url: str | None = None,
    final_sale: bool = False,
) -> None:
    values = {"title": title, "unit_price": unit_price, "currency": currency, "available": available,
              "product": product, "options": options or {}, "image_url": image_url,
              "final_sale": final_sale}  # fmt: skip
    stmt = insert(InventoryItem).values(sku=sku, **values)
    await s.execute(
        stmt.on_conflict_do_update(index_elements=[InventoryItem.sku], set_={**values, "updated_at": func.now()})
    )


async def upsert_order(s: AsyncSession, order: Order) -> bool:
    """Insert or replace an order by number; True when it is new."""
    data = order.model_dump(mode="json")
    stmt = insert(OrderRow).values(number=order.number, email=order.email, data=data)
    result = await s.execute(
        stmt.on_conflict_do_update(
            index_elements=[OrderRow.number],
            set_={"email": order.email, "data": data, "updated_at": func.now()},
        ).returning(OrderRow.created_at == OrderRow.updated_at)
    )
    return bool(result.scalar_one())
