"""For the shop's own systems: inventory and orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, field_validator

from api.deps import DbSession, Integration
from api.errors import errors
from db.queries import upsert_inventory, upsert_order
from domain.models import Currency, MinorUnits, Order, Strict
from domain.money import normalize_currency
from domain.text import Identifier, ImageUrl, Options, ShortText

router = APIRouter(prefix="/api/v1", tags=["integrations"], responses=errors(401, 403, 422, 503))


class InventoryIn(Strict):
    title: ShortText
    unit_price: MinorUnits
    currency: Currency
    available: Annotated[int, Field(ge=0, le=10**9)]
    # Variants of one product share `product`; `options` tell them apart (the portal offers exchanges by them).
    product: Identifier | None = None
    options: Options = {}
    image_url: ImageUrl | None = None
    final_sale: bool = False  # never offered in exchange

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        return normalize_currency(v)


class InventoryOut(InventoryIn):
    sku: str


@router.put("/inventory/{sku}", response_model=InventoryOut)
async def put_inventory(
    sku: Annotated[Identifier, Path(description="the SKU, as order lines name it")],
    body: InventoryIn,
    db: DbSession,
    _: Integration,
) -> InventoryOut:
    await upsert_inventory(db, sku, **body.model_dump())
    await db.commit()
    return InventoryOut(sku=sku, **body.model_dump())


class OrderOut(BaseModel):
    number: str
    created: bool


@router.post("/orders", status_code=201, response_model=OrderOut)
async def post_order(order: Order, response: Response, db: DbSession, _: Integration) -> OrderOut:
    created = await upsert_order(db, order)
    await db.commit()
    if not created:
        response.status_code = 200
    return OrderOut(number=order.number, created=created)
