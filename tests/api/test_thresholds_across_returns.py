"""Over HTTP, an order of 5 x 25.00 EUR under keep_it_below 30.00 filed as five one-unit returns: only the first is
kept without sending it back, and the portal's estimate says for each what the workflow then decides."""

from __future__ import annotations

import pytest
import stripe

from tests.api.api_helpers import line
from tests.workflows.policy_versions import policy

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEEP = "keep the items, no need to send them back"  # the shopper's words: staff read the keep-it limit too


async def test_five_one_unit_returns_are_judged_as_one_order_in_the_estimate_and_the_workflow(
    client, shop, returns, tokens, settings
):
    order = await shop.order(quantity=5, unit_price=2500)
    shopper = await tokens.shopper(order.number, order.email)
    filed = []
    async with policy(settings, keep_it_below=3000):
        for n in range(5):
            estimate = await client.post("/api/v1/portal/estimate", json={"lines": [line()]}, headers=shopper)
            assert estimate.status_code == 200, estimate.text
            ret, _ = await returns.create(order, line())
            assert ret["decision"]["reasons"] == estimate.json()["reasons"]
            assert estimate.json()["keep_it"] == (n == 0)
            filed.append(ret)
            if n == 0:
                await returns.wait_status(ret["id"], shopper, "completed")  # kept: refunded at once
    assert KEEP in filed[0]["decision"]["reasons"] and not filed[0]["shipments"]
    for ret in filed[1:]:
        assert KEEP not in ret["decision"]["reasons"] and ret["status"] == "awaiting_shipment" and ret["shipments"]
    # The shopper reads "approved at once"; staff read the sum with the order's other returns that was judged.
    assert filed[4]["decision"]["reasons"][1] == "approved at once"
    assert filed[4]["decision"]["reason_codes"][1] == {"code": "within_approval_limit_with_others",
                                                       "params": {"currency": "EUR"}}  # fmt: skip
    staff = await returns.get(filed[4]["id"], await tokens.staff("admin"))
    assert "(125.00 EUR with the order's other returns)" in staff["decision_reasons"][1]
    assert staff["decision_codes"][1]["params"] == {"value": 2500, "limit": 25000, "currency": "EUR", "total": 12500}
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [2500]
