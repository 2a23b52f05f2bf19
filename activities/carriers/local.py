"""The built-in `local` carrier: our own tracking numbers and labels, scans arrive by signed webhook."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.sql import func
from temporalio import activity

from activities.base import ActivityBase, bad_data_is_final
from activities.carriers import routing
from activities.carriers.purchase import buy_label, void_at_carrier
from db.models import CarrierPurchase, ShipmentRow
from domain.messages import LabelRequest
from domain.models import Shipment
from labels.pdf import LabelData, qr_svg, render_return_label

CARRIER = "local"


def label_url(return_id: str, direction: str) -> str:
    return f"/api/v1/returns/{return_id}/label.pdf" + ("" if direction == "inbound" else "?direction=outbound")


class LocalCarrier(ActivityBase):
    @activity.defn(name="create_label")
    @bad_data_is_final  # the shopper's address goes into the label and, for a carrier API, its request
    async def create_label(self, req: LabelRequest) -> Shipment:
        """One label per return and direction: a retry finds the row and returns the same tracking number."""
        chosen = routing.warehouse(self.settings, req.warehouse_id, req.country, req.skus)
        if chosen.carrier == "easypost" and req.direction == "inbound":
            # Bought outside a transaction: a carrier API call must not hold a database connection.
            return _shipment(await buy_label(routing.easypost_carrier(self.settings), self.sessions, req, chosen))
        async with self.sessions.begin() as s:
            existing = await s.scalar(
                select(ShipmentRow).where(
                    ShipmentRow.return_id == req.return_id,
                    ShipmentRow.direction == req.direction,
                    ShipmentRow.parcel == req.parcel,
                    ShipmentRow.voided_at.is_(None),
                )
            )
            if existing is not None:
                return _shipment(existing)
            tracking = "LC" + "".join(secrets.choice("0123456789") for _ in range(12))
            warehouse = chosen.address_lines
            data = LabelData(
                return_id=req.return_id,
                tracking_number=tracking,
                carrier="Reverso Local",
                shop_name=self.settings.shop_name,
                ship_from=req.ship_from or warehouse,
                ship_to=req.ship_to or warehouse,
                created=activity.info().current_attempt_scheduled_time.date(),
                parcel=req.parcel,
                parcels=req.parcels,
            )
            pdf = render_return_label(data)
            row = ShipmentRow(tracking_number=tracking, return_id=req.return_id, direction=req.direction,
                              carrier=CARRIER, status="label_created", label_pdf=pdf, parcel=req.parcel,
                              qr_svg=qr_svg(req.return_id), warehouse_id=chosen.id,
                              label_data=data.model_dump(mode="json"))  # fmt: skip
            s.add(row)
        return _shipment(row)

    @activity.defn(name="void_label")
    async def void_label(self, tracking_number: str) -> None:
        async with self.sessions() as s:
            row = await s.get(ShipmentRow, tracking_number)
        if row is not None and row.voided_at is None and row.carrier == "easypost" and row.provider_shipment_id:
            await void_at_carrier(routing.easypost_carrier(self.settings), row.provider_shipment_id, tracking_number)
        async with self.sessions.begin() as s:
            if row is not None and row.provider_shipment_id:
                # A new label for this return and parcel (a reissue) must be bought afresh, not resumed.
                await s.execute(
                    delete(CarrierPurchase).where(CarrierPurchase.provider_shipment_id == row.provider_shipment_id)
                )
            await s.execute(
                update(ShipmentRow)
                .where(ShipmentRow.tracking_number == tracking_number, ShipmentRow.voided_at.is_(None))
                .values(voided_at=func.now(), status="voided")
            )


def _shipment(row: ShipmentRow) -> Shipment:
    url = label_url(row.return_id, row.direction)
    if row.parcel > 1:  # parcel 1 keeps the plain url, so one-parcel returns look as before
        url += ("&" if "?" in url else "?") + f"parcel={row.parcel}"
    return Shipment(direction=row.direction, carrier=row.carrier, tracking_number=row.tracking_number,
                    label_url=row.label_url or url, status=row.status, parcel=row.parcel,
                    warehouse_id=row.warehouse_id, provider_shipment_id=row.provider_shipment_id,
                    service=row.service or "")  # fmt: skip
