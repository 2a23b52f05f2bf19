"""What the inventory offers in exchange, and the price difference the shopper sees before submitting.

The amounts come from domain.exchanges, the same functions the workflow runs at submit; here nothing is
reserved, so "in stock" is what the inventory holds right now.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InventoryItem
from domain.exchanges import ExchangeQuote, exchange_lines, price_exchanges
from domain.models import Decision, ReturnLineRequest
from domain.policy import PolicySettings

MAX_OTHER_PRODUCTS = 50  # a select, not a catalogue: the shop's own search is the place for more


def same_product(sku: str, other: str) -> bool:
    """Variants share the sku before its last '-' (TEE-M, TEE-L)."""
    prefix = sku.rsplit("-", 1)[0] if "-" in sku else sku
    return other.startswith(prefix + "-")


async def other_products(db: AsyncSession, sku: str, currency: str) -> list[InventoryItem]:
    """In-stock products sold in the order's currency that are not a variant of `sku`."""
    rows = await db.scalars(
        select(InventoryItem)
        .where(InventoryItem.available > 0, InventoryItem.currency == currency.upper(), InventoryItem.sku != sku)
        .order_by(InventoryItem.title, InventoryItem.sku)
        .limit(MAX_OTHER_PRODUCTS * 2)
    )
    return [x for x in rows if not same_product(sku, x.sku)][:MAX_OTHER_PRODUCTS]


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
