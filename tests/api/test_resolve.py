"""POST /api/v1/returns/{id}/resolve (issue 17's public contract) and what the return's JSON says of the queue."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
import stripe

from tests.api.api_helpers import WEBHOOK_PATH, inbound_tracking
from tests.workflows.test_logistics import policy

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def until_code(returns, rid: str, headers: dict[str, str], code: str) -> dict:
    for _ in range(300):
        got = await returns.get(rid, headers)
        if got["attention_code"] == code:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"{rid} never got {code}; last {got['attention_code']!r}")


async def lost_parcel(returns, shop, ts_env, admin) -> tuple[dict, dict[str, str], object]:
    order = await shop.order(unit_price=3700)
    ret, shopper = await returns.create(order)
    assert (await returns.scan(inbound_tracking(ret), "in_transit")).status_code == 202
    await returns.wait_status(ret["id"], shopper, "in_transit")
    await ts_env.sleep(timedelta(days=15, hours=2))
    await until_code(returns, ret["id"], admin, "parcel_lost")
    return ret, shopper, order


async def test_finance_refunds_a_lost_parcel_without_receipt_and_each_refusal_comes_in_order(
    client, shop, returns, tokens, ts_env
):
    admin, finance = await tokens.staff("admin"), await tokens.staff("finance", "fin-rita")
    warehouse = await tokens.staff("warehouse")
    ret, shopper, order = await lost_parcel(returns, shop, ts_env, admin)
    rid = ret["id"]
    staff_view = await returns.get(rid, finance)
    assert staff_view["attention_code"] == "parcel_lost"
    assert staff_view["resolutions"] == ["refund_without_receipt", "close"]
    shopper_view = await returns.get(rid, shopper)
    assert shopper_view["attention_code"] == "" and shopper_view["resolutions"] == []
    assert shopper_view["attention_reason"].startswith("The shop is looking into your return")

    url = f"/api/v1/returns/{rid}/resolve"
    body = {"action": "refund_without_receipt", "note": "carrier confirmed the loss"}
    assert (await client.post(url, json=body, headers=warehouse)).status_code == 403
    # The role first: a warehouse's refund with no note is refused for the role, not for the note.
    assert (await client.post(url, json={**body, "note": ""}, headers=warehouse)).status_code == 403
    assert (await client.post(url, json=body, headers=shopper)).status_code in (401, 403)
    refused = await client.post(url, json={"action": "reopen", "note": "x"}, headers=warehouse)
    assert refused.status_code == 409 and "does not fit" in refused.json()["detail"]
    no_note = await client.post(url, json={"action": "refund_without_receipt", "note": ""}, headers=finance)
    assert no_note.status_code == 422 and no_note.json()["detail"][0]["field"] == "body.note"
    no_ref = await client.post(url, json={"action": "refund_outside", "note": "paid by bank"}, headers=finance)
    assert no_ref.status_code == 422 and no_ref.json()["detail"][0]["field"] == "body.reference"
    too_much = await client.post(url, json={**body, "amount": 3701}, headers=finance)
    assert too_much.status_code == 422 and too_much.json()["detail"].startswith("amount:")

    done = await client.post(url, json=body, headers=finance)
    assert done.status_code == 200, done.text
    got = done.json()
    assert got["status"] == "completed" and got["attention_code"] == "" and got["resolutions"] == []
    entry = next(t for t in got["timeline"] if t["message"].startswith("refund without receipt"))
    assert entry["by"] == "fin-rita" and entry["note"] == "carrier confirmed the loss"
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [3700]
    seen = await returns.wait_status(rid, shopper, "completed")
    assert all(t["note"] == "" and t["by"] == "" for t in seen["timeline"])  # staff only
    again = await client.post(url, json=body, headers=finance)
    assert again.status_code == 409


async def test_admin_closes_a_parcel_returned_to_the_shopper(client, shop, returns, tokens):
    admin = await tokens.staff("admin", "admin-ivo")
    ret, shopper = await returns.create(await shop.order())
    tracking = inbound_tracking(ret)
    for event in ("in_transit", "returned_to_sender"):
        assert (await returns.scan(tracking, event)).status_code == 202
    await until_code(returns, ret["id"], admin, "returned_to_sender")
    finance = await tokens.staff("finance")
    url = f"/api/v1/returns/{ret['id']}/resolve"
    assert (await client.post(url, json={"action": "close", "note": "kept"}, headers=finance)).status_code == 403
    done = await client.post(url, json={"action": "close", "note": "shopper kept the parcel"}, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["amounts"]["refund_total"] == 0


async def test_a_late_scan_is_taken_not_404_and_the_warehouse_reopens_the_return(
    client, shop, returns, tokens, ts_env, settings
):
    admin, warehouse = await tokens.staff("admin"), await tokens.staff("warehouse", "wh-joao")
    async with policy(settings, shipment_expiry_days=3, shipment_reminder_days=1):
        ret, shopper = await returns.create(await shop.order())
    rid = ret["id"]
    await ts_env.sleep(timedelta(days=3, hours=2))
    await returns.wait_status(rid, shopper, "expired")
    now = await ts_env.get_current_time()
    body = json.dumps({"tracking_number": inbound_tracking(ret), "event": "delivered",
                       "occurred_at": now.isoformat()}).encode()  # fmt: skip
    r = await client.post(WEBHOOK_PATH, content=body, headers=returns.sign(body))
    assert r.status_code == 202 and r.json()["matched"], r.text
    got = await until_code(returns, rid, admin, "late_scan")
    assert got["resolutions"] == ["reopen", "close"]
    done = await client.post(f"/api/v1/returns/{rid}/resolve", json={"action": "reopen", "note": "on the shelf"},
                             headers=warehouse)  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "received"
