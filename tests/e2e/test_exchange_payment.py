"""End to end: an exchange for a pricier product through `reverso dev` over HTTP; the shopper pays the exact
difference once, on the order's card, in the payment peer, and the replacement ships.
(A retried charge paying once is proven on the time-skipping server: tests/workflows/test_exchanges.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import stripe

from tests.e2e.test_dev_stack import (
    Shop,
    bearer,
    client,
    eventually,
    inbound_tracking,
    log_tails,
    mails,
    scan,
    staff_token,
    stripe_at,
    wait_status,
)
from tests.support import services
from tests.support.services import DevStack


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with services.scratch_dir("reverso-e2e-exchange-") as tmp, services.dev_stack(tmp) as running:
        yield running


def test_exchange_for_a_pricier_product_charges_the_difference_once(stack: DevStack) -> None:
    with client(stack) as c:
        shop = Shop(stack, c)
        warehouse = staff_token(stack, "warehouse")
        number, addr, pi = shop.paid_order(quantity=1, unit_price=2500)
        hoodie = f"HOODIE-{uuid.uuid4().hex[:6].upper()}"
        r = c.put(f"/api/v1/inventory/{hoodie}", headers=bearer(shop.integration),
                  json={"title": "Hoodie", "unit_price": 4150, "currency": "EUR", "available": 1})  # fmt: skip
        assert r.status_code == 200, r.text
        shopper = shop.session(number, addr)
        r = c.post("/api/v1/returns", headers=bearer(shopper), json={"order_number": number, "lines": [
            {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange",
             "exchange_sku": hoodie}]})  # fmt: skip
        assert r.status_code == 201, f"{r.status_code} {r.text}\n{log_tails(stack)}"
        created = r.json()
        line = created["lines"][0]
        assert (line["exchange_unit_price"], line["price_difference"]) == (4150, 1650), line
        assert any("16.50 EUR" in x for x in created["decision"]["reasons"]), created["decision"]
        rid = created["id"]

        tracking = inbound_tracking(wait_status(c, stack, rid, bearer(shopper), "awaiting_shipment"))
        for event in ("in_transit", "delivered"):
            assert scan(c, stack, tracking, event).status_code == 202
        wait_status(c, stack, rid, bearer(shopper), "received")
        r = c.post(f"/api/v1/returns/{rid}/inspection", headers=bearer(warehouse), json={"lines": [
            {"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True, "note": ""}]})  # fmt: skip
        assert r.status_code in (200, 202), r.text
        done = wait_status(c, stack, rid, bearer(shopper), "completed")

        assert done["exchange_charged"] == 1650 and done["amounts"]["refund_total"] == 0, done
        assert [s["direction"] for s in done["shipments"]].count("outbound") == 1, done["shipments"]
        with stripe_at(stack):
            ours = [x for x in stripe.PaymentIntent.list(limit=100).auto_paging_iter()
                    if x.metadata and x.metadata.to_dict().get("return_id") == rid]  # fmt: skip
            refunds = stripe.Refund.list(payment_intent=pi.id).data
        assert [(x.amount, x.currency, x.status, x.payment_method) for x in ours] == [
            (1650, "eur", "succeeded", pi.payment_method)
        ]
        assert refunds == []
        sent = eventually("the completed e-mail", lambda: mails(stack, rid, "completed"), stack, timeout=30)
        shipped = next(s for s in done["shipments"] if s["direction"] == "outbound")
        text = "".join(
            p.get_payload(decode=True).decode() for p in sent[0].walk() if p.get_content_type() == "text/plain"
        )
        assert shipped["tracking_number"] in text
