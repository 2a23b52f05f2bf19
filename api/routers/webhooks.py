"""Carrier webhooks (local: Standard Webhooks v1; EasyPost: HMAC); each scan becomes a signal to its return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.dialects.postgresql import insert
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.deps import AppSettings, DbSession, TemporalClient
from api.errors import errors
from api.services.errors import ServiceError
from api.temporal_calls import call
from db.models import CarrierEventRow
from db.queries import return_by_tracking
from domain.bounds import ShopDateTime
from domain.carrier_webhooks import WebhookError, easypost_signature_ok, parse_easypost_webhook
from domain.models import CarrierEvent, CarrierEventKind, TrackingNumber
from domain.text import unstorable
from workflows.contracts import CARRIER_EVENT

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=errors(401, 413, 422, 503))
MAX_BODY = 1024 * 1024
EVENT_ID_PREFIX = "local:"
MAX_EVENT_ID = 200 - len(EVENT_ID_PREFIX)  # carrier_events.event_id


class LocalScan(BaseModel):
    tracking_number: TrackingNumber
    event: CarrierEventKind
    occurred_at: ShopDateTime


def _unprocessable(errors: Sequence[Any], prefix: str = "body") -> HTTPException:
    """The same shape as every other 422; no `input`, which for a non-JSON body is bytes (unserializable)."""
    detail = [{"field": ".".join([prefix, *map(str, x["loc"])]), "reason": x["msg"].removeprefix("Value error, "),
               "type": x["type"]} for x in errors]  # fmt: skip
    return HTTPException(422, detail)


class Accepted(BaseModel):
    accepted: bool
    matched: bool


@router.post("/carriers/local", status_code=202, response_model=Accepted)
async def local_carrier(request: Request, db: DbSession, temporal: TemporalClient, settings: AppSettings) -> Accepted:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise HTTPException(413, "body: larger than 1 MiB")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "body: larger than 1 MiB")
    try:
        # Checks the HMAC and that webhook-timestamp is within 5 minutes of now.
        # json_parse=False: the body is parsed (and refused with a 422) below, not here as a 500.
        Webhook(settings.webhook_secret()).verify(body, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError) as e:  # ValueError: a malformed header (bad base64, no comma)
        raise HTTPException(401, f"webhook-signature: {e}") from e
    try:
        scan = LocalScan.model_validate_json(body)
    except ValidationError as e:
        raise _unprocessable(e.errors()) from e
    event_id = request.headers["webhook-id"]
    # Signed, but still the sender's text: it becomes the stored event's key.
    why = unstorable(event_id) or (f"longer than {MAX_EVENT_ID} characters" if len(event_id) > MAX_EVENT_ID else None)
    if why:
        raise HTTPException(422, [{"field": "header.webhook-id", "reason": why, "type": "value_error"}])
    try:
        # Checked again after strip() and upper(), which can empty or lengthen it ("ß" is "SS").
        event = CarrierEvent(tracking_number=scan.tracking_number.strip().upper(), event=scan.event,
                             occurred_at=scan.occurred_at, event_id=event_id)  # fmt: skip
    except ValidationError as e:
        raise _unprocessable(e.errors()) from e
    tracking = event.tracking_number
    rid = await return_by_tracking(db, tracking)
    await db.execute(
        insert(CarrierEventRow)
        .values(
            event_id=EVENT_ID_PREFIX + event_id,
            carrier="local",
            tracking_number=tracking,
            event=scan.event,
            occurred_at=scan.occurred_at,
            matched=rid is not None,
        )  # fmt: skip
        .on_conflict_do_nothing()
    )
    await db.commit()
    if rid is not None:
        await call(temporal.get_workflow_handle(rid).signal(CARRIER_EVENT, event))
    return Accepted(accepted=True, matched=rid is not None)


class EasyPostAccepted(Accepted):
    events: int  # tracking events the delivery carried (EasyPost resends a tracker's whole history)


@router.post("/easypost", status_code=202, response_model=EasyPostAccepted)
async def easypost_webhook(
    request: Request, db: DbSession, temporal: TemporalClient, settings: AppSettings
) -> EasyPostAccepted:
    """EasyPost's Event POSTs, signed with X-Hmac-Signature; `tracker.*` events move the return they name."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise HTTPException(413, "body: larger than 1 MiB")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "body: larger than 1 MiB")
    secret = settings.easypost.webhook_secret
    if not easypost_signature_ok(body, request.headers, secret.get_secret_value() if secret else None):
        raise HTTPException(401, "x-hmac-signature: missing, or not signed with this shop's EasyPost webhook secret")
    try:
        events = parse_easypost_webhook(body)
    except WebhookError as e:
        raise HTTPException(422, [{"field": e.field, "reason": str(e), "type": "value_error"}]) from e
    except UnicodeEncodeError as e:  # a JSON "\ud800": valid JSON, but no text the adapter can hash or store
        detail = [{"field": "body", "reason": f"not Unicode text: {e.reason}", "type": "value_error"}]
        raise HTTPException(422, detail) from e
    try:
        # Each scan as the workflow would get it, checked before anything is stored: a tracking code the
        # carrier_events column cannot hold must not fail the insert below with a 500 (EasyPost would redeliver).
        scans = [CarrierEvent(tracking_number=x.tracking_number.strip().upper(), event=x.status,
                              occurred_at=x.occurred_at, event_id=x.event_id) for x in events]  # fmt: skip
    except ValidationError as e:
        raise _unprocessable(e.errors(), "body.result") from e
    # One look-up per parcel and one insert for the whole delivery: EasyPost resends a tracker's every scan each time.
    returns = {tracking: await return_by_tracking(db, tracking) for tracking in {x.tracking_number for x in scans}}
    if scans:
        rows = {x.event_id: {"event_id": x.event_id, "carrier": "easypost", "tracking_number": x.tracking_number,
                             "event": x.event, "occurred_at": x.occurred_at,
                             "matched": returns[x.tracking_number] is not None} for x in scans}  # fmt: skip
        await db.execute(insert(CarrierEventRow).values(list(rows.values())).on_conflict_do_nothing())
    await db.commit()  # kept even when a signal below fails: nothing a carrier told us is lost
    # The workflow moves on a parcel's latest scan of each kind: the others, all stored above, would only be
    # signalled to be dropped, and a tracker with a thousand scans kept the carrier waiting for a thousand signals.
    latest = {(x.tracking_number, x.event): x for x in scans}  # scans come oldest first, so the last one wins
    matched = False
    for event in sorted(latest.values(), key=lambda x: x.occurred_at):
        rid = returns[event.tracking_number]
        if rid is None:
            continue
        matched = True
        try:
            await call(temporal.get_workflow_handle(rid).signal(CARRIER_EVENT, event))
        except ServiceError as e:
            # 404: the return is closed (completed, cancelled, expired); the scan is kept above, nothing moves.
            # Anything else (503) goes back to EasyPost, which redelivers; the workflow drops the repeats.
            if e.status != 404:
                raise
    return EasyPostAccepted(accepted=True, matched=matched, events=len(events))
