"""EasyPost behind the Carrier interface: return labels, voids, trackers and signed tracker webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import easypost

from activities.carriers.base import LabelPurchase, ReturnLabelRequest
from domain.carrier_webhooks import (
    EASYPOST,
    TrackingEvent,
    easypost_signature_ok,
    parse_easypost_webhook,
    tracker_events,
)
from domain.models import Address
from domain.money import CURRENCY_EXPONENTS

PROVIDER = EASYPOST
# EasyPost reports refunds of unused labels as submitted first, refunded later; both mean the void was accepted.
VOID_ACCEPTED = frozenset({"submitted", "refunded"})
_FILE_TYPES = {"application/pdf": "PDF", "image/png": "PNG", "application/zpl": "ZPL"}
_GRAMS_PER_OUNCE = 28.349523125
_CM_PER_INCH = 2.54


class EasyPostCarrier:
    name = PROVIDER

    def __init__(
        self,
        client: easypost.EasyPostClient,
        webhook_secret: str | None,
        carriers: list[str] | None = None,
        services: list[str] | None = None,
        label_format: str = "PDF",
    ) -> None:
        self.client = client
        self.webhook_secret = webhook_secret
        # Empty lists mean "the cheapest rate of any carrier"; set them to pin a carrier or service.
        self.carriers = carriers or []
        self.services = services or []
        self.label_format = label_format.upper()

    async def create_return_label(
        self,
        request: ReturnLabelRequest,
        *,
        resume_shipment_id: str | None = None,
        on_created: Callable[[str], Awaitable[None]] | None = None,
    ) -> LabelPurchase:
        # The easypost package is synchronous (requests); a thread keeps the worker's event loop free.
        if resume_shipment_id:
            # An earlier attempt created (and maybe bought) this shipment: finish it, never buy a second one.
            shipment = await asyncio.to_thread(self.client.shipment.retrieve, resume_shipment_id)
            if shipment.get("tracking_code") and shipment.get("postage_label"):
                return self._purchase(shipment, shipment.get("selected_rate"))
        else:
            shipment = await asyncio.to_thread(self._create_shipment, request)
            if on_created is not None:
                await on_created(shipment.id)  # remembered before paying, so a retry resumes it
        rate = shipment.lowest_rate(carriers=self.carriers, services=self.services)
        bought = await asyncio.to_thread(lambda: self.client.shipment.buy(shipment.id, rate={"id": rate.id}))
        return self._purchase(bought, rate)

    def _create_shipment(self, request: ReturnLabelRequest) -> Any:
        parcel = request.parcel
        return self.client.shipment.create(
            is_return=True,
            # With is_return EasyPost swaps the two addresses itself (docs: "Create Return for a Shipment"),
            # so they are given as for the original outbound parcel: warehouse -> shopper.
            from_address=_address(request.to_address),
            to_address=_address(request.from_address, request.from_email, request.from_phone),
            parcel={
                "weight": max(0.1, round(parcel.weight_grams / _GRAMS_PER_OUNCE, 1)),
                "length": round(parcel.length_cm / _CM_PER_INCH, 1),
                "width": round(parcel.width_cm / _CM_PER_INCH, 1),
                "height": round(parcel.height_cm / _CM_PER_INCH, 1),
            },
            reference=request.return_id,  # lets staff find the shipment in EasyPost's dashboard by RMA
            options={"label_format": self.label_format},
        )

    def _purchase(self, bought: Any, rate: Any) -> LabelPurchase:
        label = bought.postage_label
        chosen = bought.get("selected_rate") or rate
        url = {"PDF": label.get("label_pdf_url"), "ZPL": label.get("label_zpl_url")}.get(self.label_format)
        return LabelPurchase(
            provider=PROVIDER,
            carrier=chosen.carrier,
            service=chosen.service,
            tracking_number=bought.tracking_code,
            provider_shipment_id=bought.id,
            label_url=url or label.label_url,
            label_format=_FILE_TYPES.get(label.get("label_file_type") or "", self.label_format),
            cost_minor=_minor_units(chosen.rate, chosen.currency),
            currency=chosen.currency,
        )

    async def void_label(self, provider_shipment_id: str) -> bool:
        shipment = await asyncio.to_thread(self.client.shipment.refund, provider_shipment_id)
        return shipment.get("refund_status") in VOID_ACCEPTED

    async def track(self, tracking_number: str, carrier: str | None = None) -> list[TrackingEvent]:
        """Poll instead of waiting for a webhook (e.g. for a parcel that stopped moving)."""
        params = {"tracking_code": tracking_number} | ({"carrier": carrier} if carrier else {})
        tracker = await asyncio.to_thread(lambda: self.client.tracker.create(**params))
        return tracker_events(tracker.to_dict())

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return easypost_signature_ok(body, headers, self.webhook_secret)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[TrackingEvent]:
        return parse_easypost_webhook(body)


def _address(a: Address, email: str = "", phone: str = "") -> dict[str, str]:
    fields = {"name": a.name, "street1": a.line1, "street2": a.line2, "city": a.city, "state": a.region,
              "zip": a.postal_code, "country": a.country.upper(), "email": email, "phone": phone}  # fmt: skip
    return {k: v for k, v in fields.items() if v}


def _minor_units(amount: str | None, currency: str | None) -> int | None:
    if amount is None or not currency:
        return None
    exponent = CURRENCY_EXPONENTS.get(currency.upper(), 2)
    return int((Decimal(amount) * 10**exponent).to_integral_value())
