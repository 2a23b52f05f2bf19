"""What the workflow needs from a carrier, whoever the carrier is: one interface and its types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.models import Address

TrackingStatus = Literal[
    "pre_transit", "in_transit", "out_for_delivery", "delivered", "exception", "returned_to_sender"
]


class WebhookError(ValueError):
    """A webhook body we cannot read; the API answers it with a 422 naming `field` (a dotted path), never a 500."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


class Parcel(BaseModel):
    # Metric, because the shop and its warehouses are; adapters convert to what their API wants.
    # The defaults fit a shoebox-sized parcel, the most common return.
    weight_grams: Annotated[int, Field(gt=0, le=70_000)] = 1_000
    length_cm: Annotated[float, Field(gt=0, le=300)] = 30
    width_cm: Annotated[float, Field(gt=0, le=300)] = 20
    height_cm: Annotated[float, Field(gt=0, le=300)] = 10


class ReturnLabelRequest(BaseModel):
    return_id: Annotated[str, Field(min_length=1, max_length=200)]
    from_address: Address  # the shopper: where the parcel starts
    to_address: Address  # the warehouse chosen for this return
    # Some carriers refuse a label without a way to reach the sender.
    from_email: str = ""
    from_phone: str = ""
    parcel: Parcel = Parcel()


class LabelPurchase(BaseModel):
    # Base64 in JSON: Temporal's pydantic converter would otherwise try to decode a PDF as UTF-8.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    provider: str  # the adapter that bought it, e.g. "easypost"
    carrier: str  # who carries the parcel, e.g. "USPS"
    service: str = ""
    tracking_number: str
    provider_shipment_id: str  # what void_label needs
    label_url: str | None = None
    label_bytes: bytes | None = None
    label_format: str = "PDF"
    cost_minor: int | None = None  # integer minor units, like all money here
    currency: str | None = None

    @model_validator(mode="after")
    def _has_label(self) -> LabelPurchase:
        if not self.label_url and not self.label_bytes:
            raise ValueError("a label purchase needs label_url or label_bytes")
        return self


class TrackingEvent(BaseModel):
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    carrier: str
    # Stable across redeliveries of the same scan, so duplicates can be dropped downstream.
    event_id: str
    description: str = ""
    provider_shipment_id: str | None = None


@runtime_checkable
class Carrier(Protocol):
    """Label calls do I/O (async); webhook calls are pure, so the API can run them inline."""

    name: str

    async def create_return_label(
        self,
        request: ReturnLabelRequest,
        *,
        resume_shipment_id: str | None = None,
        on_created: Callable[[str], Awaitable[None]] | None = None,
    ) -> LabelPurchase:
        """Buy a label. `on_created` hears the carrier's shipment id before anything is paid, so the caller can
        keep it; a retry passes it back as `resume_shipment_id` and gets that shipment's label, never a second."""
        ...

    async def void_label(self, provider_shipment_id: str) -> bool:
        """True when the carrier accepted the void (refund of an unused label)."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[TrackingEvent]:
        """Normalized events; an empty list for webhooks that carry no tracking news."""
        ...


# EasyPost's tracker statuses (docs.easypost.com/docs/trackers) mapped onto ours.
_EASYPOST_STATUS: dict[str, TrackingStatus] = {
    "pre_transit": "pre_transit",
    "unknown": "pre_transit",  # EasyPost has no scan yet: nothing happened
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    # Held at a pickup point: it will not reach the warehouse unless someone acts.
    "available_for_pickup": "exception",
    "return_to_sender": "returned_to_sender",
    "failure": "exception",
    "cancelled": "exception",
    "error": "exception",
}


def map_easypost_status(status: str | None) -> TrackingStatus:
    """Total on purpose: a status EasyPost adds later must not crash a webhook or move a return forward."""
    return _EASYPOST_STATUS.get((status or "").strip().lower(), "pre_transit")
