"""What the inventory offers in exchange, and the price difference the shopper sees before submitting.

The amounts come from domain.exchanges, the same functions the workflow runs at submit; here nothing is
reserved, so "in stock" is what the inventory holds right now.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InventoryItem
from domain.exchanges import ExchangeQuote, exchange_lines, price_exchanges
from domain.models import Decision, ReturnLineRequest
from domain.policy import PolicySettings

MAX_CHOICES = 100  # variants of one product offered in exchange: a picker, not a catalogue


def variant_of(bought: InventoryItem | None, sku: str) -> ColumnElement[bool]:
    """The inventory's rows of the same product as `sku`: sharing its `product`; for an item without one (or not in
    the inventory), sharing the sku before its last '-' (TEE-M, TEE-L), as before products were known."""
    if bought is not None and bought.product:
        return InventoryItem.product == bought.product
    prefix = sku.rsplit("-", 1)[0] if "-" in sku else sku
    return InventoryItem.sku.startswith(prefix + "-", autoescape=True)


async def exchange_choices(db: AsyncSession, sku: str, currency: str) -> list[InventoryItem]:
    """What a line of `sku` may be exchanged for: the same product's other variants, in stock, sold in the order's
    currency, never the variant bought and never a final-sale one, by sku."""
    bought = await db.get(InventoryItem, sku)
    rows = await db.scalars(
        select(InventoryItem)
        .where(variant_of(bought, sku), InventoryItem.sku != sku, InventoryItem.available > 0,
               InventoryItem.final_sale.is_(False), InventoryItem.currency == currency.upper())
        .order_by(InventoryItem.sku)
        .limit(MAX_CHOICES)
    )  # fmt: skip
    return list(rows)


async def quotes_for(db: AsyncSession, decision: Decision) -> list[ExchangeQuote]:
    quotes = []
    for x in exchange_lines(decision.lines):
        item = await db.get(InventoryItem, x.exchange_sku) if x.exchange_sku else None
        quotes.append(
            ExchangeQuote(line_id=x.line_id, sku=x.exchange_sku or "")
            if item is None
            else ExchangeQuote(
                line_id=x.line_id,
                sku=item.sku,
                title=item.title,
                unit_price=item.unit_price,
                currency=item.currency,
                reserved=item.available >= x.quantity,
            )  # fmt: skip
        )
    return quotes


async def price_preview(
    db: AsyncSession, decision: Decision, requests: list[ReturnLineRequest], policy: PolicySettings
) -> None:
    """Put each exchange's price difference into a preview decision, as the workflow will at submit."""
    notes = price_exchanges(decision.lines, requests, await quotes_for(db, decision), decision.currency, policy)
    decision.add_reasons(notes)


async def unknown_exchange_skus(db: AsyncSession, requests: list[ReturnLineRequest]) -> list[str]:
    """A 4xx reason for each exchange line whose sku the inventory does not have."""
    errors = []
    for i, r in enumerate(requests):
        if r.resolution == "exchange" and r.exchange_sku and await db.get(InventoryItem, r.exchange_sku) is None:
            errors.append(f"lines[{i}].exchange_sku: no product {r.exchange_sku} in the inventory")
    return errors
