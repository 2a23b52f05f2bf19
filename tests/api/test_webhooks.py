"""The local carrier's scans: Standard Webhooks v1 signatures, replays, unknown parcels, oversized bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.api_helpers import WEBHOOK_PATH, inbound_tracking, scan_body
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_in_transit_scan_moves_the_return(client, shop, returns):
    ret, headers = await returns.create(await shop.order())
    r = await returns.scan(inbound_tracking(ret), "in_transit")
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": True, "matched": True}
    moved = await returns.wait_status(ret["id"], headers, "in_transit")
    assert moved["shipments"][0]["status"] == "in_transit"
    # once scanned, the shopper can no longer cancel
    r = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=headers)
    assert r.status_code == 409


async def test_tracking_number_is_matched_whatever_its_case(client, shop, returns):
    ret, headers = await returns.create(await shop.order())
    r = await returns.scan(" " + inbound_tracking(ret).lower(), "delivered")
    assert r.status_code == 202 and r.json()["matched"] is True
    await returns.wait_status(ret["id"], headers, "received")


async def test_bad_signature_is_401_and_changes_nothing(client, shop, returns):
    ret, headers = await returns.create(await shop.order())
    body = scan_body(inbound_tracking(ret), "in_transit")
    signed = returns.sign(body)
    tampered = scan_body(inbound_tracking(ret), "delivered")
    r = await client.post(WEBHOOK_PATH, content=tampered, headers=signed)
    assert r.status_code == 401
    assert "webhook-signature" in r.json()["detail"]
    wrong = {**signed, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    assert (await client.post(WEBHOOK_PATH, content=body, headers=wrong)).status_code == 401
    assert (await returns.get(ret["id"], headers))["status"] == "awaiting_shipment"


@pytest.mark.parametrize("signature", ["garbage", "v1,not*base64!", "v2,abc v1"])
async def test_malformed_signature_header_is_401(client, returns, signature):
    body = scan_body("LC000000000000", "in_transit")
    headers = {**returns.sign(body), "webhook-signature": signature}
    r = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_missing_headers_are_401(client, returns, missing):
    body = scan_body("LC000000000000", "in_transit")
    headers = {k: v for k, v in returns.sign(body).items() if k != missing}
    r = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert r.status_code == 401, r.text


async def test_timestamp_ten_minutes_old_is_401_even_when_signed(client, shop, returns):
    ret, headers = await returns.create(await shop.order())
    body = scan_body(inbound_tracking(ret), "in_transit")
    old = returns.sign(body, at=datetime.now(UTC) - timedelta(minutes=10))
    r = await client.post(WEBHOOK_PATH, content=body, headers=old)
    assert r.status_code == 401
    future = returns.sign(body, at=datetime.now(UTC) + timedelta(minutes=10))
    assert (await client.post(WEBHOOK_PATH, content=body, headers=future)).status_code == 401
    assert (await returns.get(ret["id"], headers))["status"] == "awaiting_shipment"


async def test_replayed_webhook_id_is_accepted_and_changes_nothing(client, shop, returns, ts_env: WorkflowEnvironment):
    ret, headers = await returns.create(await shop.order())
    tracking = inbound_tracking(ret)
    # An exception scan adds to the timeline every time it is applied, so a replay would show.
    body = scan_body(tracking, "exception")
    signed = returns.sign(body, msg_id="msg_replay_" + ret["id"])
    for _ in range(2):
        r = await client.post(WEBHOOK_PATH, content=body, headers=signed)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": True, "matched": True}
    # a later, different scan: once it shows, both copies above have been handled
    assert (await returns.scan(tracking, "in_transit")).status_code == 202
    seen = await returns.wait_status(ret["id"], headers, "in_transit")
    problems = [t for t in seen["timeline"] if "carrier reported a problem" in t["message"]]
    assert len(problems) == 1
    state = await ts_env.client.get_workflow_handle(ret["id"]).query(ReturnWorkflow.get_state)
    assert sum(t.code == "carrier_problem" for t in state.timeline) == 1


async def test_unknown_tracking_number_is_accepted_unmatched(client, returns):
    r = await returns.scan("LC999999999999", "delivered")
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": True, "matched": False}


async def test_body_over_one_mib_is_413(client, returns):
    body = b'{"tracking_number": "' + b"X" * (1024 * 1024 + 10) + b'", "event": "in_transit"}'
    r = await client.post(WEBHOOK_PATH, content=body, headers=returns.sign(body))
    assert r.status_code == 413
    assert "1 MiB" in r.json()["detail"]


async def test_signed_but_invalid_scan_is_422(client, returns):
    body = b'{"tracking_number": "LC1", "event": "lost", "occurred_at": "2026-01-01T00:00:00Z"}'
    r = await client.post(WEBHOOK_PATH, content=body, headers=returns.sign(body))
    assert r.status_code == 422, r.text
    assert [x["field"] for x in r.json()["detail"]] == ["body.event"]


async def test_signed_body_that_is_not_json_is_422(client, returns):
    body = b"tracking=LC1&event=delivered"
    r = await client.post(WEBHOOK_PATH, content=body, headers=returns.sign(body))
    assert r.status_code == 422, r.text
    assert [x["field"] for x in r.json()["detail"]] == ["body"]
