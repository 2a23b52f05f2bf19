"""A shopper's photos of the items they return (issue 19): uploaded one by one in the portal, then named by a line
of the return (`photo_ids`). The same checking and cleaning as the warehouse's (api/photos.py); kept per order, so
a return names only photos its own shopper took. Staff read them with the return (api/services/photos.py); the shopper
sees their own as thumbnails in the form, and may take one off a line before filing."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import photos
from api.auth import Shopper
from api.services.errors import ServiceError
from api.services.photos import NOT_FOUND, image_response
from db.models import ShopperPhoto
from db.queues import order_returns
from domain.line_rules import LineProblem
from domain.models import MAX_PHOTOS, ReturnLineRequest

# Photos one order may hold: three for each of a good many lines; beyond, uploads are refused, not stored.
MOST_PER_ORDER = 10 * MAX_PHOTOS


class ShopperPhotoOut(BaseModel):
    id: str  # name it in the return line's `photo_ids`


async def upload(db: AsyncSession, who: Shopper, data: bytes, field: str = "file") -> ShopperPhotoOut:
    held = select(func.count()).where(ShopperPhoto.order_number == who.order_number)
    if int((await db.execute(held)).scalar_one()) >= MOST_PER_ORDER:
        raise ServiceError(422, f"{field}: this order already has {MOST_PER_ORDER} photos")
    cleaned, content_type = photos.clean(data, field)
    photo_id = await photos.store_for_order(db, who.order_number, cleaned, content_type)
    await db.commit()
    return ShopperPhotoOut(id=photo_id)


async def foreign_photos(db: AsyncSession, order_number: str, lines: list[ReturnLineRequest]) -> list[LineProblem]:
    """The lines naming a photo that is not one this order's shopper uploaded (another shopper's, or none)."""
    ours = await photos.of_order(db, order_number, [p for x in lines for p in x.photo_ids])
    return [LineProblem(f"lines.{i}.photo_ids", "photo_not_yours") for i, x in enumerate(lines)
            if any(p not in ours for p in x.photo_ids)]  # fmt: skip


async def photo_response(db: AsyncSession, who: Shopper, photo_id: str) -> Response:
    """One of the shopper's own photos (their order's); any other, or none, is 404 alike."""
    found = await photos.shopper_photo(db, who.order_number, photo_id)
    if found is None:
        raise ServiceError(404, NOT_FOUND)
    return image_response(found)


async def remove(db: AsyncSession, who: Shopper, photo_id: str) -> bool:
    """Delete a photo the shopper took off a line before filing, so it no longer counts against the order's room,
    unless a return of their order already names it (staff read it there). Whether it was deleted."""
    named = {p for row in await order_returns(db, who.order_number) for x in row.state.get("lines", [])
             for p in x.get("decision", {}).get("photo_ids", [])}  # fmt: skip
    if photo_id in named:
        return False
    gone = await photos.drop_shopper_photo(db, who.order_number, photo_id)
    await db.commit()
    return gone
