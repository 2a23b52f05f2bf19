"""Warehouse inspection and finance refund review over HTTP, down to the refund in the payment peer."""

from __future__ import annotations

import pytest
import stripe

from tests.api.api_helpers import console_sign_in, line

pytestmark = pytest.mark.asyncio(loop_scope="session")


def inspection(quantity: int, line_id: str = "L1", condition: str = "new") -> dict:
    return {"lines": [{"line_id": line_id, "accepted_quantity": quantity, "condition": condition, "restock": True}]}


async def test_inspection_before_the_parcel_arrives_is_a_conflict(client, shop, returns, tokens):
    ret, _ = await returns.create(await shop.order())
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(1), headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 409, r.text
    assert "awaiting_shipment" in r.json()["detail"]


async def test_inspection_is_for_the_warehouse(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order())
    await returns.deliver(ret, headers)
    path = f"/api/v1/returns/{ret['id']}/inspection"
    assert (await client.post(path, json=inspection(1), headers=await tokens.staff("finance"))).status_code == 403
    assert (await client.post(path, json=inspection(1), headers=headers)).status_code == 401


async def test_accepting_more_than_returned_is_422_naming_the_field(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order(quantity=2), line(quantity=2))
    await returns.deliver(ret, headers)
    warehouse = await tokens.staff("warehouse")
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(3), headers=warehouse)
    assert r.status_code == 422, r.text
    assert "accepted_quantity" in r.json()["detail"] and "3" in r.json()["detail"]
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(1, line_id="L9"), headers=warehouse)  # fmt: skip
    assert r.status_code == 422 and "L9" in r.json()["detail"]
    assert (await returns.get(ret["id"], headers))["status"] == "received"


async def test_full_acceptance_refunds_at_once(client, shop, returns, tokens):
    order = await shop.order(quantity=2, unit_price=2500)
    ret, headers = await returns.create(order, line(quantity=2))
    await returns.deliver(ret, headers)
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(2), headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 200, r.text
    done = await returns.wait_status(ret["id"], headers, "completed")
    assert done["amounts"]["refund_total"] == 5000
    assert [x.amount for x in stripe.Refund.list(payment_intent=order.payment.reference).data] == [5000]
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(2), headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 409


async def test_finance_lowers_the_refund_after_a_refused_line(client, shop, returns, tokens):
    order = await shop.order(quantity=2, unit_price=4000)
    ret, headers = await returns.create(order, line(quantity=2, reason="defective"))
    await returns.deliver(ret, headers)
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(1, condition="damaged"), headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 200, r.text
    review = await returns.wait_status(ret["id"], headers, "pending_refund_review")
    # Finance reads why the refund was held; the shopper that the shop reviews it, without the policy's reasons.
    assert review["timeline"][-1]["message"] == "the refund is being reviewed by the shop"
    finance = await tokens.staff("finance")
    held = (await returns.get(ret["id"], finance))["timeline"][-1]
    assert held["code"] == "finance_review" and held["params"] == {
        "reasons": [{"code": "review_refused_at_inspection", "params": {"line": "L1"}}]
    }
    # The finance console says why from the entry's parameters, not from its words.
    await console_sign_in(client, tokens, "finance")
    queue = await client.get("/staff/finance")
    assert (
        queue.status_code == 200
        and '<span class="why">line L1 was partly accepted at inspection (1 of 2)</span>' in queue.text
    )
    # A page still showing the return as received polls its status: it gets the page's new <main> to swap in, not a
    # reload, which would cancel a form its person has just sent (the inspection that changed the status).
    seen = await client.get(f"/staff/returns/{ret['id']}/status", params={"seen": "received"})
    assert seen.status_code == 200 and "HX-Refresh" not in seen.headers
    assert (seen.headers["HX-Retarget"], seen.headers["HX-Reswap"], seen.headers["HX-Reselect"]) == (
        "main", "outerHTML", "main")  # fmt: skip
    assert 'id="review-approve"' in seen.text and 'id="inspection"' not in seen.text
    same = await client.get(f"/staff/returns/{ret['id']}/status", params={"seen": "pending_refund_review"})
    assert same.status_code == 200 and "HX-Retarget" not in same.headers and "<main" not in same.text
    client.cookies.clear()
    path = f"/api/v1/returns/{ret['id']}/refund-review"
    r = await client.post(path, json={"approve": True, "amount": 4001}, headers=finance)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("amount:") and "4000" in r.json()["detail"]
    assert r.json()["code"] == "amount_too_large"
    assert (await client.post(path, json={"approve": True, "amount": 3500}, headers=await tokens.staff("warehouse"))).status_code == 403  # fmt: skip
    r = await client.post(path, json={"approve": True, "amount": 3500, "note": "scratched"}, headers=finance)
    assert r.status_code == 200, r.text
    done = await returns.wait_status(ret["id"], headers, "completed")
    assert done["amounts"]["refund_total"] == 3500
    assert [x.amount for x in stripe.Refund.list(payment_intent=order.payment.reference).data] == [3500]
    r = await client.post(path, json={"approve": True, "amount": 100}, headers=finance)
    assert r.status_code == 409


async def test_refund_review_before_inspection_is_a_conflict(client, shop, returns, tokens):
    ret, _ = await returns.create(await shop.order())
    r = await client.post(f"/api/v1/returns/{ret['id']}/refund-review", json={"approve": True}, headers=await tokens.staff("finance"))  # fmt: skip
    assert r.status_code == 409
