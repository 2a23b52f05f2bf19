"""Stock for exchanges: quote and reserve at submit (or find the reservation an earlier attempt made),
consume when the replacement ships, release when the return ends without it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import ActivityBase, bad_data_is_final
from db.models import InventoryItem, Reservation
from domain.exchanges import ExchangeQuote, QuoteInput
from domain.keys import exchange_reserve_key
from domain.messages import StockInput


class Inventory(ActivityBase):
    @activity.defn(name="reserve_stock")
    @bad_data_is_final  # an SKU typed with NUL in it is looked up as it came
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
            await self._give_back(s, r.sku, r.quantity)

    @activity.defn(name="quote_exchange")
    @bad_data_is_final
    async def quote(self, inp: QuoteInput) -> list[ExchangeQuote]:
        """Each replacement's price, with its stock reserved under `<return id>:exchange:<line id>` when the
        inventory has enough and sells it in the order's currency."""
        quotes = []
        for line in inp.lines:
            async with self.sessions() as s:
                item = await s.get(InventoryItem, line.sku)
            if item is None:
                quotes.append(ExchangeQuote(line_id=line.line_id, sku=line.sku))
                continue
            sellable = item.currency.upper() == inp.currency.upper()
            held = sellable and await self.reserve(
                StockInput(key=exchange_reserve_key(inp.return_id, line.line_id), return_id=inp.return_id,
                           sku=line.sku, quantity=line.quantity)
            )  # fmt: skip
            quotes.append(ExchangeQuote(line_id=line.line_id, sku=line.sku, title=item.title,
                                        unit_price=item.unit_price, currency=item.currency, reserved=held))  # fmt: skip
        return quotes

    @activity.defn(name="consume_stock")
    @bad_data_is_final
    async def consume(self, inp: StockInput) -> None:
        """The replacement shipped `inp.quantity`: the reservation is spent, and what the inspection did not
        accept goes back on the shelf."""
        async with self.sessions.begin() as s:
            r = await s.scalar(select(Reservation).where(Reservation.key == inp.key).with_for_update())
            if r is None or r.status != "reserved":
                return
            surplus = max(r.quantity - inp.quantity, 0)
            r.status, r.quantity = "shipped", r.quantity - surplus
            if surplus:
                await self._give_back(s, r.sku, surplus)

    @activity.defn(name="release_return_stock")
    async def release_return(self, return_id: str) -> int:
        """Release every reservation of a return still held (cancelled, rejected, expired, not shipped)."""
        async with self.sessions() as s:
            keys = list(
                await s.scalars(
                    select(Reservation.key).where(Reservation.return_id == return_id, Reservation.status == "reserved")
                )
            )
        for key in keys:
            await self.release(key)
        return len(keys)

    @staticmethod
    async def _give_back(s: AsyncSession, sku: str, quantity: int) -> None:
        await s.execute(
            update(InventoryItem).where(InventoryItem.sku == sku).values(available=InventoryItem.available + quantity)
        )
