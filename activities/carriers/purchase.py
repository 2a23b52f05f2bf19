"""Buying a return label from a carrier API (EasyPost) at most once per return and direction."""

from __future__ import annotations

import logging

import easypost.errors
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.carriers.base import Carrier, ReturnLabelRequest
from db.models import CarrierPurchase, ShipmentRow
from domain.keys import label_purchase_key
from domain.messages import LabelRequest
from labels.pdf import qr_svg
from settings import WarehouseSettings

log = logging.getLogger("reverso.carriers")


async def buy_label(
    carrier: Carrier, sessions: async_sessionmaker[AsyncSession], req: LabelRequest, warehouse: WarehouseSettings
) -> ShipmentRow:
    """The carrier's shipment id is written down before paying; a retry resumes that shipment instead of
    buying a second label (creating a shipment at EasyPost is free, buying it is not)."""
    if req.shopper_address is None or warehouse.address is None:
        raise ApplicationError(f"carrier {carrier.name} needs structured shopper and warehouse addresses",
                               type="LabelRequestIncomplete", non_retryable=True)  # fmt: skip
    key = label_purchase_key(req.return_id, req.direction, req.parcel)
    async with sessions() as s:
        existing = await s.scalar(
            select(ShipmentRow).where(ShipmentRow.return_id == req.return_id, ShipmentRow.direction == req.direction,
                                      ShipmentRow.parcel == req.parcel, ShipmentRow.voided_at.is_(None))
        )  # fmt: skip
        if existing is not None:
            return existing
        started = await s.get(CarrierPurchase, key)

    async def remember(shipment_id: str) -> None:
        async with sessions.begin() as s:
            await s.execute(
                insert(CarrierPurchase)
                .values(
                    key=key,
                    return_id=req.return_id,
                    carrier=carrier.name,
                    warehouse_id=warehouse.id,
                    provider_shipment_id=shipment_id,
                )
                .on_conflict_do_nothing()
            )
            kept = await s.scalar(select(CarrierPurchase.provider_shipment_id).where(CarrierPurchase.key == key))
        if kept != shipment_id:
            # An overlapping attempt got there first: stop before paying; the retry resumes its shipment.
            raise RuntimeError(f"label for {key} is already being bought as {kept}")

    label = await carrier.create_return_label(
        ReturnLabelRequest(return_id=req.return_id, from_address=req.shopper_address,
                           to_address=warehouse.address, from_email=req.shopper_email),
        resume_shipment_id=started.provider_shipment_id if started else None,
        on_created=remember,
    )  # fmt: skip
    tracking = label.tracking_number.strip().upper()
    async with sessions.begin() as s:
        await s.execute(
            insert(ShipmentRow)
            .values(
                tracking_number=tracking,
                return_id=req.return_id,
                direction=req.direction,
                carrier=carrier.name,
                status="label_created",
                label_pdf=label.label_bytes,
                qr_svg=qr_svg(req.return_id),
                warehouse_id=warehouse.id,
                provider_shipment_id=label.provider_shipment_id,
                label_url=label.label_url,
                service=f"{label.carrier} {label.service}".strip(),
                parcel=req.parcel,
            )  # fmt: skip
            .on_conflict_do_nothing()
        )
        row = await s.get(ShipmentRow, tracking)
    assert row is not None
    if row.return_id != req.return_id:
        # Carriers do not reuse live tracking numbers; if one ever did, no return may get another's parcel.
        raise ApplicationError(f"tracking number {tracking} already belongs to return {row.return_id}",
                               type="TrackingNumberTaken", non_retryable=True)  # fmt: skip
    return row


async def void_at_carrier(carrier: Carrier, provider_shipment_id: str, tracking_number: str) -> None:
    """Ask the carrier to refund an unused label. A refusal (already used, already refunded, too old) is the
    carrier's final word: it is logged and the label is voided on our side anyway; outages are retried."""
    try:
        accepted = await carrier.void_label(provider_shipment_id)
    except easypost.errors.ApiError as e:
        if e.http_status is None or e.http_status >= 500 or e.http_status == 429:
            raise
        accepted = False
    if not accepted:
        log.warning("carrier %s refused to refund the label of %s (%s)", carrier.name, tracking_number,
                    provider_shipment_id)  # fmt: skip
