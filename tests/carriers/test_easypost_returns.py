"""A real return whose warehouse buys its label from EasyPost (replayed from the recordings), moved forward by
EasyPost tracker webhooks POSTed to the live API, signed as EasyPost signs them.

Bridging the recordings, honestly: the label purchase (test_shipment_buy.yaml) gives tracking number
9400100208303109505657, while the only recorded Tracker (test_tracker_create.yaml) is for EZ1000000001 and holds two
pre_transit scans. The webhook bodies below are the recorded Event envelope around that recorded Tracker with its
tracking_code (and shipment_id) set to the label's, and with later scans added as edited copies of a recorded scan
(status, time and message changed). The recorded Tracker, untouched, serves as the parcel nobody knows.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
import stripe
import vcr
import yaml
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from db.engine import get_sessionmaker
from db.models import CarrierEventRow, ShipmentRow
from db.queries import upsert_order
from domain.models import Order
from settings import Settings
from tests.carriers.conftest import EP_PATH, TRACKING, ep_sign, export_history
from tests.carriers.test_easypost_adapter import CASSETTES, LABEL_URL, TRACKER, recorded
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOUGHT = "shp_16578f588f9546ec914afd2474e24ff5"
# Replay only, as in the adapter's tests; the API under test (http://test, in-process) is not EasyPost.
replay = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode="none", match_on=["method", "path"],
                 ignore_hosts=["test"])  # fmt: skip
US_SHOPPER = {"name": "Jack Sparrow", "line1": "179 N Harbor Dr", "city": "Redondo Beach", "region": "CA",
              "postal_code": "90277", "country": "US"}  # fmt: skip


async def us_order(settings: Settings, ts_env: WorkflowEnvironment, country_address: dict = US_SHOPPER) -> Order:
    pi = stripe.PaymentIntent.create(amount=2500, currency="usd", payment_method="pm_card_visa", confirm=True)
    now = await ts_env.get_current_time()
    order = Order.model_validate({
        "number": "E" + uuid.uuid4().hex[:8].upper(), "email": "jack@example.com", "currency": "USD",
        "placed_at": now - timedelta(days=7), "delivered_at": now - timedelta(days=5),
        "payment": {"provider": "stripe", "reference": pi.id}, "shipping_address": country_address,
        "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 1, "unit_price": 2500}],
    })  # fmt: skip
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_order(s, order)
    return order


def scan(status: str, at: str, message: str) -> dict[str, Any]:
    """An edited copy of the recorded scan."""
    return copy.deepcopy(TRACKER["tracking_details"][-1]) | {"status": status, "datetime": at, "message": message}


def tracker_updated(tracking: str = TRACKING, *later: dict[str, Any]) -> bytes:
    tracker = copy.deepcopy(TRACKER)
    if tracking != TRACKER["tracking_code"]:
        tracker |= {"tracking_code": tracking, "shipment_id": BOUGHT}
    tracker["tracking_details"] += list(later)
    tracker["status"] = tracker["tracking_details"][-1]["status"]
    event = dict(recorded("test_event_retrieve_payload.yaml", "GET", "/v2/events")["events"][0])
    return json.dumps(event | {"description": "tracker.updated", "result": tracker}).encode()


IN_TRANSIT = scan("in_transit", "2025-02-08T09:00:00Z", "Arrived at USPS Regional Facility")
OUT_FOR_DELIVERY = scan("out_for_delivery", "2025-02-09T07:10:00Z", "Out for Delivery")
DELIVERED = scan("delivered", "2025-02-09T13:40:00Z", "Delivered, Front Desk/Reception")


async def test_an_easypost_webhook_replayed_from_the_recordings_moves_a_real_return(
    ep_client, ep_returns, ep_settings, ts_env, mailbox, request, recorded_label_is_free
):
    # A US shopper: routing sends the return to the San Francisco warehouse, whose labels come from EasyPost.
    order = await us_order(ep_settings, ts_env)
    with replay.use_cassette("test_shipment_buy.yaml") as cassette:
        ret, headers = await ep_returns.create(order)
    assert cassette.all_played  # the shipment was created and bought, once each
    assert ret["status"] == "awaiting_shipment" and ret["warehouse_id"] == "sf"
    [label] = ret["shipments"]
    assert (label["tracking_number"], label["carrier"], label["label_url"]) == (TRACKING, "easypost", LABEL_URL)
    assert (label["warehouse_id"], label["service"]) == ("sf", "USPS GroundAdvantage")

    async def post(body: bytes) -> dict:
        r = await ep_client.post(EP_PATH, content=body, headers=ep_sign(body))
        assert r.status_code == 202, r.text
        return r.json()

    # 1. The recorded tracker: two pre_transit scans. Logged once (the second is not news), no status change.
    assert await post(tracker_updated()) == {"accepted": True, "matched": True, "events": 2}
    # 2. EasyPost resends the whole history with each update: one new scan, in transit.
    assert (await post(tracker_updated(TRACKING, IN_TRANSIT)))["events"] == 3
    moved = await ep_returns.wait_status(ret["id"], headers, "in_transit")
    assert moved["shipments"][0]["status"] == "in_transit"
    # 3. The same delivery again, then out for delivery and delivered.
    await post(tracker_updated(TRACKING, IN_TRANSIT))
    await post(tracker_updated(TRACKING, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED))
    received = await ep_returns.wait_status(ret["id"], headers, "received")

    messages = [t["message"] for t in received["timeline"]]
    assert messages.count(f"parcel {TRACKING}: pre transit") == 1
    assert messages.count("parcel scanned by the carrier") == 1
    assert messages.count(f"parcel {TRACKING}: out for delivery") == 1
    assert messages[-1] == "parcel delivered to the warehouse"
    state = await ts_env.client.get_workflow_handle(ret["id"]).query(ReturnWorkflow.get_state)
    assert (state.status, state.warehouse_id, state.shipments[0].status) == ("received", "sf", "delivered")
    assert state.shipments[0].provider_shipment_id == BOUGHT
    async with get_sessionmaker(ep_settings.resolved_database_url())() as s:
        stored = (await s.scalars(select(CarrierEventRow).where(CarrierEventRow.tracking_number == TRACKING))).all()
    # Every distinct scan is kept once, whatever the number of redeliveries.
    assert sorted(e.event for e in stored) == sorted(
        ["pre_transit", "pre_transit", "in_transit", "out_for_delivery", "delivered"]
    )
    assert all(e.matched and e.carrier == "easypost" for e in stored)
    # The shopper got the carrier's label by link: there is no PDF of ours to attach.
    assert LABEL_URL in mailbox.body(ret["id"], "label")
    await export_history(ts_env, request, ret["id"])


async def test_other_countries_go_to_the_default_warehouse_whose_address_is_on_the_label(
    ep_returns, ep_settings, ts_env, shop
):
    ret, _ = await ep_returns.create(await shop.order())  # a shopper in Portugal; no cassette: no EasyPost call
    [label] = ret["shipments"]
    assert ret["warehouse_id"] == "porto" and label["carrier"] == "local" and label["tracking_number"].startswith("LC")
    async with get_sessionmaker(ep_settings.resolved_database_url())() as s:
        pdf = await s.scalar(
            select(ShipmentRow.label_pdf).where(ShipmentRow.tracking_number == label["tracking_number"])
        )
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Rua do Cais 7" in text and "Armazem" not in text  # the routed warehouse, not warehouse_address


async def test_a_scan_for_an_unknown_parcel_is_kept_and_answered_202(ep_client, ep_settings):
    body = tracker_updated(TRACKER["tracking_code"])  # the recorded tracker as it is: no return has EZ1000000001
    r = await ep_client.post(EP_PATH, content=body, headers=ep_sign(body))
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": True, "matched": False, "events": 2}
    async with get_sessionmaker(ep_settings.resolved_database_url())() as s:
        kept = (await s.scalars(select(CarrierEventRow).where(CarrierEventRow.tracking_number == "EZ1000000001"))).all()
    assert len(kept) == 2 and not any(e.matched for e in kept)


async def test_unsigned_badly_signed_oversized_and_unreadable_webhooks_are_refused(ep_client):
    body = tracker_updated()
    for headers in ({}, ep_sign(body, "whsec_someone_else"), {"X-Hmac-Signature": "hmac-sha256-hex=00"}):
        r = await ep_client.post(EP_PATH, content=body, headers=headers)
        assert r.status_code == 401, r.text
        assert "x-hmac-signature" in r.json()["detail"]
    tampered = body.replace(TRACKING.encode(), b"9400100208303100000000")
    assert (await ep_client.post(EP_PATH, content=tampered, headers=ep_sign(body))).status_code == 401
    # Over 1 MiB is refused before the signature is even computed.
    huge = b'{"object": "Event", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    r = await ep_client.post(EP_PATH, content=huge, headers=ep_sign(huge))
    assert r.status_code == 413 and "1 MiB" in r.json()["detail"]
    for unreadable, field in ((b"not json", "body"),
                              (b'{"object": "Event", "description": "tracker.updated", "result": null}',
                               "body.result.object")):  # fmt: skip
        r = await ep_client.post(EP_PATH, content=unreadable, headers=ep_sign(unreadable))
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"] == field
    # Signed, but news of something other than a parcel (a batch, a refund): accepted, nothing to do.
    batch = json.loads(body) | {"description": "batch.updated"}
    other = json.dumps(batch).encode()
    r = await ep_client.post(EP_PATH, content=other, headers=ep_sign(other))
    assert r.status_code == 202 and r.json() == {"accepted": True, "matched": False, "events": 0}


def refund_of_bought_label(tmp_path: Path) -> str:
    """The recorded refund answer, addressed to the shipment the purchase recording bought."""
    data = yaml.safe_load((CASSETTES / "test_shipment_refund.yaml").read_text())
    refund = data["interactions"][1]
    refund["request"]["uri"] = f"https://api.easypost.com/v2/shipments/{BOUGHT}/refund"
    refund["response"]["body"]["string"] = refund["response"]["body"]["string"].replace(
        "shp_700d2963c43b4847883c955eeb846b13", BOUGHT
    )
    data["interactions"] = [refund]
    (tmp_path / "refund.yaml").write_text(yaml.safe_dump(data))
    return str(tmp_path / "refund.yaml")


async def test_cancelling_refunds_the_unused_easypost_label(
    ep_client, ep_returns, ep_settings, ts_env, db, tmp_path, recorded_label_is_free
):
    order = await us_order(ep_settings, ts_env)
    with replay.use_cassette("test_shipment_buy.yaml"):
        ret, headers = await ep_returns.create(order)
    with replay.use_cassette(refund_of_bought_label(tmp_path)) as cassette:
        r = await ep_client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=headers)
        assert r.status_code == 200, r.text
        assert await ts_env.client.get_workflow_handle(ret["id"]).result() == "cancelled"
    assert cassette.play_count == 1  # EasyPost was asked once to refund shp_1657...
    assert await db.shipment_status(TRACKING) == "voided"
    # A scan arriving after the return closed is kept, and answered 202, never 500.
    body = tracker_updated(TRACKING, IN_TRANSIT)
    r = await ep_client.post(EP_PATH, content=body, headers=ep_sign(body))
    assert r.status_code == 202 and r.json()["matched"] is True


async def test_without_a_configured_secret_every_easypost_webhook_is_refused(settings, ts_env):
    app = create_app(settings)  # the shop's default settings: no EasyPost at all
    app.state.temporal = ts_env.client
    body = tracker_updated()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        r = await http.post(EP_PATH, content=body, headers=ep_sign(body))
    assert r.status_code == 401, r.text
