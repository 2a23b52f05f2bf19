"""Stock for exchanges: reserve (or find the reservation made by an earlier attempt), release."""

from __future__ import annotations

from sqlalchemy import select, update
from temporalio import activity

from activities.base import ActivityBase
from db.models import InventoryItem, Reservation
from domain.messages import StockInput


class Inventory(ActivityBase):
    @activity.defn(name="reserve_stock")
    async def reserve(self, inp: StockInput) -> bool:
        """True when the stock is held for this key; False when there is not enough."""
        async with self.sessions.begin() as s:
            if await s.scalar(select(Reservation).where(Reservation.key == inp.key)) is not None:
                return True
            took = await s.execute(
                update(InventoryItem)
                .where(InventoryItem.sku == inp.sku, InventoryItem.available >= inp.quantity)
                .values(available=InventoryItem.available - inp.quantity)
                .returning(InventoryItem.sku)
            )
            if took.first() is None:
                return False
            s.add(Reservation(key=inp.key, return_id=inp.return_id, sku=inp.sku,
                              quantity=inp.quantity, status="reserved"))  # fmt: skip
        return True

    @activity.defn(name="release_stock")
    async def release(self, key: str) -> None:
        async with self.sessions.begin() as s:
            r = await s.scalar(select(Reservation).where(Reservation.key == key).with_for_update())
            if r is None or r.status != "reserved":
                return
            r.status = "released"
            await s.execute(
                update(InventoryItem)
                .where(InventoryItem.sku == r.sku)
                .values(available=InventoryItem.available + r.quantity)
            )
