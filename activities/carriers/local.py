"""The built-in `local` carrier: our own tracking numbers and labels, scans arrive by signed webhook."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.sql import func
from temporalio import activity

from activities.base import ActivityBase
from db.models import ShipmentRow
from domain.messages import LabelRequest
from domain.models import Shipment
from labels.pdf import LabelData, qr_svg, render_return_label

CARRIER = "local"


def label_url(return_id: str, direction: str) -> str:
    return f"/api/v1/returns/{return_id}/label.pdf" + ("" if direction == "inbound" else "?direction=outbound")


class LocalCarrier(ActivityBase):
    @activity.defn(name="create_label")
    async def create_label(self, req: LabelRequest) -> Shipment:
        """One label per return and direction: a retry finds the row and returns the same tracking number."""
        async with self.sessions.begin() as s:
            existing = await s.scalar(
                select(ShipmentRow).where(
                    ShipmentRow.return_id == req.return_id,
                    ShipmentRow.direction == req.direction,
                    ShipmentRow.voided_at.is_(None),
                )
            )
            if existing is not None:
                return _shipment(existing)
            tracking = "LC" + "".join(secrets.choice("0123456789") for _ in range(12))
            warehouse = self.settings.warehouse_address.splitlines()
            pdf = render_return_label(
                LabelData(
                    return_id=req.return_id,
                    tracking_number=tracking,
                    carrier="Reverso Local",
                    shop_name=self.settings.shop_name,
                    ship_from=req.ship_from or warehouse,
                    ship_to=req.ship_to or warehouse,
                    created=activity.info().current_attempt_scheduled_time.date(),
                )
            )
            row = ShipmentRow(tracking_number=tracking, return_id=req.return_id, direction=req.direction,
                              carrier=CARRIER, status="label_created", label_pdf=pdf,
                              qr_svg=qr_svg(req.return_id))  # fmt: skip
            s.add(row)
        return _shipment(row)

    @activity.defn(name="void_label")
    async def void_label(self, tracking_number: str) -> None:
        async with self.sessions.begin() as s:
            await s.execute(
                update(ShipmentRow)
                .where(ShipmentRow.tracking_number == tracking_number, ShipmentRow.voided_at.is_(None))
                .values(voided_at=func.now(), status="voided")
            )


def _shipment(row: ShipmentRow) -> Shipment:
    return Shipment(direction=row.direction, carrier=row.carrier, tracking_number=row.tracking_number,  # type: ignore[arg-type]
                    label_url=label_url(row.return_id, row.direction), status=row.status)  # fmt: skip
