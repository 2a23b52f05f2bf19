"""Photos of a return's lines: the warehouse's while inspecting it (issue 18), uploaded first, then named by the
inspection; and the shopper's (issue 19, api/services/shopper_photos.py), which staff read here too."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api import photos
from api.auth import Staff
from api.services.access import visible_return
from api.services.errors import ServiceError
from db.models import InspectionPhoto, ShopperPhoto
from domain.models import MAX_PHOTOS, ReturnState

NOT_FOUND = "photo not found"


class PhotoOut(BaseModel):
    id: str  # name it in the inspection's line: "photos": ["<id>"]
    line_id: str
    content_type: str
    size: int


async def upload(db: AsyncSession, rid: str, who: Staff, line_id: str, data: bytes, field: str = "file") -> PhotoOut:
    """Keep one photo of a line of a received return that is not inspected yet (409 otherwise)."""
    row = await visible_return(db, rid, who)
    state = ReturnState.model_validate(row.state)
    if state.status != "received" or any(x.accepted_quantity is not None for x in state.lines):
        raise ServiceError(409, f"status: photos are taken while inspecting a received return; it is {state.status}")
    if line_id not in {x.decision.line_id for x in state.lines}:
        raise ServiceError(422, "line_id: not a line of this return")
    if await photos.count(db, rid, line_id) >= MAX_PHOTOS:
        raise ServiceError(422, f"{field}: at most {MAX_PHOTOS} photos per line")
    cleaned, content_type = photos.clean(data, field)
    photo_id = await photos.store(db, rid, line_id, cleaned, content_type, who.name)
    await db.commit()
    return PhotoOut(id=photo_id, line_id=line_id, content_type=content_type, size=len(cleaned))


async def check_named(db: AsyncSession, rid: str, who: Staff, lines: list[tuple[str, list[str]]]) -> None:
    """An inspection names only photos uploaded for that very line of this return, each once (422 otherwise). A
    return the caller cannot see is not found first; a line not in the return is the workflow's to refuse."""
    wanted = [pid for _, ids in lines for pid in ids]
    if not wanted:
        return
    row = await visible_return(db, rid, who)
    ours = {x.decision.line_id for x in ReturnState.model_validate(row.state).lines}
    found = await photos.lines_of(db, rid, wanted)
    for i, (line_id, ids) in enumerate(lines):
        if line_id not in ours:
            continue
        if len(set(ids)) != len(ids):
            raise ServiceError(422, f"lines[{i}].photos: a photo is named twice")
        if any(found.get(pid) != line_id for pid in ids):
            raise ServiceError(422, f"lines[{i}].photos: not a photo uploaded for line {line_id} of this return")


async def photo_response(db: AsyncSession, rid: str, who: Staff, photo_id: str) -> Response:
    """The photo's bytes for staff, with its type and never sniffed as anything else."""
    row = await visible_return(db, rid, who)
    found: InspectionPhoto | ShopperPhoto | None = await photos.photo(db, rid, photo_id)
    # A shopper's photo is the return's only when one of its lines names it (and it is of the return's order).
    if found is None and any(photo_id in x.decision.photo_ids for x in ReturnState.model_validate(row.state).lines):
        found = await photos.shopper_photo(db, row.order_number, photo_id)
    if found is None:
        raise ServiceError(404, NOT_FOUND)
    return image_response(found)


def image_response(found: InspectionPhoto | ShopperPhoto) -> Response:
    """A stored photo's bytes, with its type and never sniffed as anything else."""
    return Response(found.data, media_type=found.content_type, headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
        "Content-Disposition": f'inline; filename="{found.id}"',
    })  # fmt: skip
