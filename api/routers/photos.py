"""Inspection photos over the JSON API (issue 18): the warehouse uploads each photo of a line, then names its id in
the inspection's `lines[].photos`; staff read them back. Shoppers never reach them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from api.auth import Staff
from api.deps import DbSession, Warehouse, staff
from api.errors import errors
from api.photos import MAX_BYTES
from api.services import photos
from domain.text import Identifier, ReturnId

router = APIRouter(prefix="/api/v1/returns", tags=["returns"], responses=errors(401, 403, 404, 409, 413, 422, 503))
PhotoReader = Annotated[Staff, Depends(staff("warehouse", "finance"))]


@router.post("/{rid}/photos", status_code=201, response_model=photos.PhotoOut)
async def upload_photo(
    rid: ReturnId,
    who: Warehouse,
    db: DbSession,
    line_id: Annotated[Identifier, Form(description="the return line the photo shows")],
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MiB; its metadata is removed")],
) -> photos.PhotoOut:
    """Keep a photo of a line of a received return before its inspection (up to 3 per line; 409 unless the return is
    received and not inspected yet). Name the answer's `id` in the inspection's `lines[].photos`."""
    data = await file.read(MAX_BYTES + 1)
    return await photos.upload(db, rid, who, line_id, data)


@router.get("/{rid}/photos/{photo_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})  # fmt: skip
async def get_photo(rid: ReturnId, photo_id: str, who: PhotoReader, db: DbSession) -> Response:
    """An inspection photo, for the warehouse, finance and admin."""
    return await photos.photo_response(db, rid, who, photo_id[:64])
