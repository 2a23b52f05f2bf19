"""Product pictures beside the items a return page lists (issue 19): a returned item's is its order line's
`image_url`, an exchange's replacement's is its inventory row's. A page reads them for all its returns at once, one
query for the orders' lines and one for the replacements, never one per line; the templates show a URL only where the
shop's image origins let the browser load it (`picture(url)`, api/pages.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.views import ReturnView
from db.models import InventoryItem, OrderRow


@dataclass(frozen=True)
class Pictures:
    """What each line of the pages' returns looks like: "" where the shop gave no picture."""

    lines: dict[tuple[str, str], str] = field(default_factory=dict)  # (order number, line id) -> URL
    items: dict[str, str] = field(default_factory=dict)  # replacement SKU -> URL

    def of(self, r: ReturnView, line_id: str) -> str:
        return self.lines.get((r.order_number, line_id), "")

    def replacement(self, sku: str | None) -> str:
        return self.items.get(sku, "") if sku else ""


async def pictures(db: AsyncSession | AsyncConnection, returns: Iterable[ReturnView]) -> Pictures:
    views = list(returns)
    numbers = {r.order_number for r in views}
    skus = {x.exchange_sku for r in views for x in r.lines if x.resolution == "exchange" and x.exchange_sku}
    lines: dict[tuple[str, str], str] = {}
    if numbers:
        found = await db.execute(select(OrderRow.number, OrderRow.data["lines"]).where(OrderRow.number.in_(numbers)))
        for number, order_lines in found.all():
            lines.update({(number, str(x["id"])): x["image_url"] for x in _listed(order_lines) if x.get("image_url")})
    items: dict[str, str] = {}
    if skus:
        found = await db.execute(
            select(InventoryItem.sku, InventoryItem.image_url).where(
                InventoryItem.sku.in_(skus), InventoryItem.image_url.is_not(None)
            )
        )
        items = {sku: url for sku, url in found.all() if url}
    return Pictures(lines, items)


def _listed(order_lines: Any) -> list[dict[str, Any]]:
    """An order's stored lines (domain.models.OrderLine as JSON): each a dict with an id."""
    return [x for x in order_lines or [] if isinstance(x, dict) and "id" in x]
