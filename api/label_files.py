"""A return's label as a file in the format asked for: the stored PDF, or drawn again from its label data."""

from __future__ import annotations

from typing import Literal

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.services.errors import ServiceError
from db.models import ShipmentRow
from labels import MEDIA_TYPES, Format, LabelData, render_label

__all__ = ["Direction", "Format", "Size", "label_bytes", "label_response", "label_row"]

Direction = Literal["inbound", "outbound"]
Size = Literal["4x6", "a4"]
NAMES = {"pdf": "4x6 PDF", "a4": "A4 PDF", "zpl": "ZPL"}


async def label_row(db: AsyncSession, rid: str, direction: Direction, parcel: int) -> ShipmentRow:
    row = await db.scalar(
        select(ShipmentRow)
        .where(
            ShipmentRow.return_id == rid,
            ShipmentRow.direction == direction,
            ShipmentRow.parcel == parcel,
            ShipmentRow.voided_at.is_(None),
        )
        .order_by(ShipmentRow.created_at.desc())
        .limit(1)
    )
    if row is None:
        raise ServiceError(
            404, "label: this return has no valid label" + (f" for parcel {parcel}" if parcel > 1 else "")
        )
    return row


# The label exists, only not in the format asked for.
UNAVAILABLE = "format_unavailable"


def label_bytes(row: ShipmentRow, fmt: Format) -> bytes:
    """The 4x6 PDF as stored when the label was made; other formats drawn again from the same data."""
    if fmt == "pdf" and row.label_pdf is not None:
        return row.label_pdf
    if row.label_data is None:
        if fmt == "pdf":  # e.g. a carrier that only hosts its label at its own address (the shipment's label_url)
            raise ServiceError(404, "label: no PDF is stored for this label")
        if row.carrier != "local":
            why = f"the carrier {row.carrier} supplied this label as a file of its own"
        else:
            why = "this label was made before other formats existed"
        raise ServiceError(404, f"format: a {NAMES[fmt]} cannot be made: {why}; use the 4x6 PDF", code=UNAVAILABLE)
    try:
        data = LabelData.model_validate(row.label_data)
    except ValidationError as e:  # a row written by a future or broken writer must not become a 500
        raise ServiceError(
            404, f"format: a {NAMES[fmt]} cannot be made from this label's stored data", code=UNAVAILABLE
        ) from e
    return render_label(data, fmt)


async def label_response(row: ShipmentRow, fmt: Format, disposition: str = "inline") -> Response:
    suffix = "zpl" if fmt == "zpl" else "pdf"
    name = (
        f"return-label-{row.return_id}" + (f"-{row.parcel}" if row.parcel > 1 else "") + ("-a4" if fmt == "a4" else "")
    )
    # The label carries the shopper's name and address: no shared or browser cache keeps it.
    headers = {"Content-Disposition": f'{disposition}; filename="{name}.{suffix}"', "Cache-Control": "no-store"}
    # Drawing a label takes tens of milliseconds of CPU: off the event loop, so other requests keep flowing.
    content = await run_in_threadpool(label_bytes, row, fmt)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)
