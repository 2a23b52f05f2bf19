"""Photos of returned items: the warehouse's at inspection (issue 18, `inspection_photos`) and the shopper's with a
return line (issue 19, `shopper_photos`, kept per order). Both are checked by their content with Pillow, re-encoded so
no metadata (EXIF, GPS, XMP, comments) survives, and kept in PostgreSQL. Staff read both; a shopper reads back only
their own order's photos, as thumbnails in the portal's form (/portal/photos/{id}), never an inspection photo."""

from __future__ import annotations

import io
import re
import secrets
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.errors import ServiceError
from db.models import InspectionPhoto, ShopperPhoto

MAX_BYTES = 5 * 1024 * 1024  # 5 MiB, as sent
MAX_PIXELS = 50_000_000  # a 4 KB PNG can claim 100,000 x 100,000 pixels: refused before decoding
PHOTO_ID = re.compile(r"[0-9a-f]{32}")  # as store() makes them; anything else is no photo, unread
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def clean(data: bytes, field: str = "file") -> tuple[bytes, str]:
    """The photo re-encoded in its own format without metadata, and its content type. 413 above 5 MiB; 422 for
    anything that is not a JPEG, PNG or WebP image, whatever its name or declared type says."""
    if len(data) > MAX_BYTES:
        raise ServiceError(413, f"{field}: a photo may be at most 5 MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                kind = im.format or ""
                if kind not in TYPES:
                    raise ServiceError(422, f"{field}: a photo must be a JPEG, PNG or WebP image")
                if im.width * im.height > MAX_PIXELS:
                    raise ServiceError(422, f"{field}: the photo has too many pixels")
                im.load()
                upright = ImageOps.exif_transpose(im)  # the camera's orientation applied, as its EXIF goes
                picture = upright.copy()
    except ServiceError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ServiceError(422, f"{field}: a photo must be a JPEG, PNG or WebP image") from e
    except Exception as e:  # noqa: BLE001 - a damaged file makes Pillow raise almost anything (OSError, struct.error, ...)
        raise ServiceError(422, f"{field}: the photo could not be read as an image") from e
    for key in [k for k in picture.info if k != "transparency"]:  # keep the pixels' transparency, no metadata
        del picture.info[key]
    out = io.BytesIO()
    try:
        if kind == "JPEG":
            picture.save(out, "JPEG", quality=90, optimize=True)
        elif kind == "WEBP":
            picture.save(out, "WEBP", quality=90)
        else:
            picture.save(out, "PNG", optimize=True)
    except (OSError, ValueError) as e:  # a pixel mode the format cannot be written in again
        raise ServiceError(422, f"{field}: the photo could not be read as an image") from e
    return out.getvalue(), TYPES[kind]


async def store(db: AsyncSession, rid: str, line_id: str, data: bytes, content_type: str, by: str) -> str:
    photo_id = secrets.token_hex(16)
    db.add(InspectionPhoto(id=photo_id, return_id=rid, line_id=line_id, content_type=content_type, data=data,
                           uploaded_by=by))  # fmt: skip
    await db.flush()
    return photo_id


async def count(db: AsyncSession, rid: str, line_id: str) -> int:
    q = select(func.count()).where(InspectionPhoto.return_id == rid, InspectionPhoto.line_id == line_id)
    return int((await db.execute(q)).scalar_one())


async def lines_of(db: AsyncSession, rid: str, ids: list[str]) -> dict[str, str]:
    """Which line each of these photos of the return was taken for; ids of other returns are left out."""
    q = select(InspectionPhoto.id, InspectionPhoto.line_id).where(
        InspectionPhoto.return_id == rid, InspectionPhoto.id.in_(ids)
    )
    return {pid: line for pid, line in (await db.execute(q)).all()}


async def photo(db: AsyncSession, rid: str, photo_id: str) -> InspectionPhoto | None:
    found = await db.get(InspectionPhoto, photo_id) if PHOTO_ID.fullmatch(photo_id) else None
    return found if found is not None and found.return_id == rid else None


async def drop(db: AsyncSession, ids: list[str]) -> None:
    if ids:
        await db.execute(delete(InspectionPhoto).where(InspectionPhoto.id.in_(ids)))


async def store_for_order(db: AsyncSession, order_number: str, data: bytes, content_type: str) -> str:
    """Keep a shopper's photo, cleaned first (clean()), for a line of a return of this order."""
    photo_id = secrets.token_hex(16)
    db.add(ShopperPhoto(id=photo_id, order_number=order_number, content_type=content_type, data=data))
    await db.flush()
    return photo_id


async def of_order(db: AsyncSession, order_number: str, ids: list[str]) -> set[str]:
    """Which of these ids are photos a shopper of this order uploaded; any other order's are left out."""
    wanted = [x for x in ids if PHOTO_ID.fullmatch(x)]
    if not wanted:
        return set()
    q = select(ShopperPhoto.id).where(ShopperPhoto.order_number == order_number, ShopperPhoto.id.in_(wanted))
    return set((await db.scalars(q)).all())


async def shopper_photo(db: AsyncSession, order_number: str, photo_id: str) -> ShopperPhoto | None:
    found = await db.get(ShopperPhoto, photo_id) if PHOTO_ID.fullmatch(photo_id) else None
    return found if found is not None and found.order_number == order_number else None


async def drop_shopper_photo(db: AsyncSession, order_number: str, photo_id: str) -> bool:
    """Delete this order's photo (no other's); whether there was one."""
    if not PHOTO_ID.fullmatch(photo_id):
        return False
    gone = await db.execute(
        delete(ShopperPhoto).where(ShopperPhoto.id == photo_id, ShopperPhoto.order_number == order_number)
    )
    return bool(getattr(gone, "rowcount", 0))
