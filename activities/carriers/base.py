"""What the workflow needs from a carrier, whoever the carrier is: one interface and its types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.carrier_webhooks import TrackingEvent, TrackingStatus, WebhookError, map_easypost_status
from domain.models import Address

# Webhook parsing is pure and lives in domain.carrier_webhooks (the API reads webhooks without the adapters);
# named here too, beside the interface that uses them.
__all__ = ["Carrier", "LabelPurchase", "Parcel", "ReturnLabelRequest", "TrackingEvent", "TrackingStatus",
           "WebhookError", "map_easypost_status"]  # fmt: skip


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
