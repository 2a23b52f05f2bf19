"""Carrier webhooks as pure code: checking their signatures and reading their scans.

Both the API (which receives webhooks) and the carrier activities (which poll trackers) read scans with these
functions; they live here so the API needs no carrier adapter, and no carrier client library, to do it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

TrackingStatus = Literal[
    "pre_transit", "in_transit", "out_for_delivery", "delivered", "exception", "returned_to_sender"
]

EASYPOST = "easypost"
EASYPOST_SIGNATURE_HEADER = "X-Hmac-Signature"
EASYPOST_TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


class WebhookError(ValueError):
    """A webhook body we cannot read; the API answers it with a 422 naming `field` (a dotted path), never a 500."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


class TrackingEvent(BaseModel):
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    carrier: str
    # Stable across redeliveries of the same scan, so duplicates can be dropped downstream.
    event_id: str
    description: str = ""
    provider_shipment_id: str | None = None


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


def easypost_signature_ok(body: bytes, headers: Mapping[str, str], secret: str | None) -> bool:
    """Whether X-Hmac-Signature is EasyPost's HMAC-SHA256 of `body` under the shop's webhook secret (the same
    check as easypost.validate_webhook, which also parses the body: that is parse_easypost_webhook's job here)."""
    if not secret:
        return False  # no secret configured: nothing can be trusted
    # HTTP header names are case-insensitive.
    signature = next((v for k, v in headers.items() if k.lower() == EASYPOST_SIGNATURE_HEADER.lower()), None)
    if not signature or not signature.isascii():
        return False  # compare_digest raises TypeError for non-ASCII text; no real signature is
    key = unicodedata.normalize("NFKD", secret).encode("utf8")
    expected = "hmac-sha256-hex=" + hmac.new(key=key, msg=body, digestmod=hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def parse_easypost_webhook(body: bytes) -> list[TrackingEvent]:
    """The scans an EasyPost Event carries, normalized; an empty list for events with no tracking news."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: nested deeper than the parser goes
        raise WebhookError(f"EasyPost webhook body is not JSON: {type(e).__name__}") from e
    if not isinstance(event, dict) or event.get("object") != "Event":
        raise WebhookError("EasyPost webhook body is not an Event object", "body.object")
    if event.get("description") not in EASYPOST_TRACKER_EVENTS:
        return []  # batch, refund, report events: no tracking news
    result = event.get("result")
    if not isinstance(result, dict) or result.get("object") != "Tracker":
        raise WebhookError("tracker event without a Tracker result", "body.result.object")
    return tracker_events(result)


def tracker_events(tracker: Mapping[str, Any]) -> list[TrackingEvent]:
    """Every scan in a Tracker, normalized. EasyPost resends the whole history each time, so ids are stable."""
    tracking_number = tracker.get("tracking_code")
    if not tracking_number:
        raise WebhookError("tracker without a tracking_code", "body.result.tracking_code")
    carrier = tracker.get("carrier") or EASYPOST
    listed = tracker.get("tracking_details")
    details = [(f"body.result.tracking_details.{i}.datetime", d) for i, d in enumerate(listed)
               if isinstance(d, dict)] if isinstance(listed, list) else []  # fmt: skip
    if not details:  # no scans yet: report the tracker's own status so the caller still learns something
        details = [("body.result.updated_at", {"status": tracker.get("status"), "datetime": tracker.get("updated_at"),
                                               "message": ""})]  # fmt: skip
    events = []
    for field, d in details:
        raw = d.get("status") or "unknown"
        at = _when(d.get("datetime") or tracker.get("updated_at") or tracker.get("created_at"), tracking_number, field)
        key = "|".join(str(x) for x in (tracking_number, at, raw, d.get("status_detail"), d.get("message")))
        events.append(
            TrackingEvent(
                tracking_number=tracking_number,
                status=map_easypost_status(raw),
                occurred_at=at,
                carrier=carrier,
                event_id=f"{EASYPOST}:{hashlib.sha256(key.encode()).hexdigest()[:32]}",
                description=d.get("message") or d.get("description") or f"EasyPost status {raw}",
                provider_shipment_id=tracker.get("shipment_id"),
            )
        )
    return sorted(events, key=lambda e: e.occurred_at)


def _when(value: Any, tracking_number: str, field: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except (TypeError, ValueError) as e:
        raise WebhookError(f"scan of {tracking_number} has no readable time", field) from e
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # EasyPost sends UTC; never compare naive with aware
