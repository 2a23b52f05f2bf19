"""Finance settles a refund Stripe refused with store credit, and a parcel that will not come with a refund without
receipt, from /staff/exceptions, in English and in Portuguese, against `reverso dev` in Chromium (issue 17). `reverso dev` runs on the real clock, so the parcel is one the carrier sent
back to the shopper or reported a problem with, not one silent for weeks (tests/workflows/test_exceptions.py and
tests/api/test_resolve.py take a lost one on the time-skipping server): the same action and buttons."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from tests.browser.test_staff_consoles import Shop, token
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack
from tests.support.staff_people import person

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def stuck_return(shop: Shop, last_scan: str, code: str) -> str:
    number, addr = shop.paid_order(quantity=1)
    rid = shop.file_return(number, addr, 1)["id"]
    tracking = shop.tracking(rid)
    shop.scan(tracking, "in_transit")
    shop.wait_status(rid, "in_transit")
    shop.scan(tracking, last_scan)
    deadline = time.monotonic() + 60
    while shop.get(rid)["attention_code"] != code:
        assert time.monotonic() < deadline, f"{rid} never got {code}"
        time.sleep(0.3)
    return rid


def refund_from_queue(page: Any, stack: DevStack, rid: str, names: dict[str, str]) -> None:
    page.goto(f"{stack.api_url}/staff/exceptions")
    row = page.locator(f"#row-{rid}")
    expect(row.locator(".code")).to_have_text(names["code"])
    expect(row.locator(f"#confirm-{rid}-close")).to_have_count(0)  # admin's, not finance's
    row.get_by_role("button", name=names["open"], exact=True).click()
    step = row.locator(f"#resolve-{rid}-refund_without_receipt")  # the second step: why, then confirm
    step.get_by_label(names["note"]).fill("carrier will not bring it back")
    snap(page, f"staff-exceptions-{names['code']}")
    step.get_by_role("button", name=names["confirm"]).click()
    page.wait_for_url("**/staff/exceptions")
    expect(page.locator(f"#row-{rid}")).to_have_count(0, timeout=30_000)


def test_finance_refunds_a_parcel_sent_back_without_receipt_from_the_queue(stack: DevStack, shop: Shop,
                                                                           page: Any) -> None:  # fmt: skip
    rid = stuck_return(shop, "returned_to_sender", "returned_to_sender")
    person(stack, page, "finance", name="fiona-exceptions")
    refund_from_queue(
        page,
        stack,
        rid,
        {
            "code": "Returned to the shopper",
            "open": "Refund without receipt",
            "note": "Why (staff only)",
            "confirm": "Confirm: refund without receipt",
        },
    )
    done = shop.wait_status(rid, "completed")
    assert done["amounts"]["refund_total"] == 2500
    entry = next(t for t in done["timeline"] if t["message"].startswith("refund without receipt"))
    assert entry["by"] == "fiona-exceptions" and entry["note"] == "carrier will not bring it back"


def test_finance_refunds_a_parcel_without_receipt_in_portuguese(stack: DevStack, shop: Shop, page_pt: Any) -> None:
    rid = stuck_return(shop, "exception", "parcel_stuck")
    person(stack, page_pt, "finance", name="filipa-excecoes")
    refund_from_queue(page_pt, stack, rid, {"code": "Encomenda parada", "open": "Reembolsar sem receção",
                                            "note": "Porquê (só para a equipa)",
                                            "confirm": "Confirmar: reembolsar sem receção"})  # fmt: skip
    assert shop.wait_status(rid, "completed")["amounts"]["refund_total"] == 2500


def refused_refund(stack: DevStack, shop: Shop) -> str:
    """A return inspected and accepted whose refund Stripe refuses: the shop had refunded the order by hand."""
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = "sk_test_x", stack.stripe_url
    try:
        pi = stripe.PaymentIntent.create(amount=2500, currency="eur", payment_method="pm_card_visa", confirm=True)
        stripe.Refund.create(payment_intent=pi.id, amount=2500)  # in Stripe's dashboard, outside Reverso
    finally:
        stripe.api_key, stripe.api_base = saved
    now = datetime.now(UTC)
    number, addr = "S" + uuid.uuid4().hex[:8].upper(), f"ana-{uuid.uuid4().hex[:6]}@example.com"
    r = shop.c.post("/api/v1/orders", headers=shop.auth, json={
        "number": number, "email": addr, "currency": "EUR", "payment": {"provider": "stripe", "reference": pi.id},
        "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "postal_code": "4000-001",
                             "country": "PT"},
        "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 1, "unit_price": 2500}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    rid = shop.file_return(number, addr, 1)["id"]
    tracking = shop.tracking(rid)
    shop.scan(tracking, "in_transit")
    shop.wait_status(rid, "in_transit")
    shop.scan(tracking, "delivered")
    shop.wait_status(rid, "received")
    warehouse = {"Authorization": f"Bearer {token(stack, 'warehouse', 'wes-exceptions')}"}
    r = shop.c.post(f"/api/v1/returns/{rid}/inspection", headers=warehouse, json={
        "lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True}]})  # fmt: skip
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while shop.get(rid)["attention_code"] != "refund_refused":
        assert time.monotonic() < deadline, f"{rid}'s refund was never refused"
        time.sleep(0.3)
    return rid


def credit_from_queue(page: Any, stack: DevStack, rid: str, names: dict[str, str]) -> None:
    page.goto(f"{stack.api_url}/staff/exceptions")
    row = page.locator(f"#row-{rid}")
    expect(row.locator(".code")).to_have_text(names["code"])
    row.get_by_role("button", name=names["open"], exact=True).click()
    step = row.locator(f"#resolve-{rid}-store_credit")  # the second step: why, then confirm
    step.get_by_label(names["note"]).fill("the shopper prefers credit")
    snap(page, f"staff-exceptions-credit-{names['code']}")
    step.get_by_role("button", name=names["confirm"]).click()
    page.wait_for_url("**/staff/exceptions")
    expect(page.locator(f"#row-{rid}")).to_have_count(0, timeout=30_000)


def test_finance_pays_a_refused_refund_as_store_credit_from_the_queue(stack: DevStack, shop: Shop, page: Any) -> None:
    rid = refused_refund(stack, shop)
    person(stack, page, "finance", name="fred-exceptions")
    credit_from_queue(
        page,
        stack,
        rid,
        {
            "code": "Refund refused",
            "open": "Pay as store credit",
            "note": "Why (staff only)",
            "confirm": "Confirm: pay as store credit",
        },
    )
    done = shop.wait_status(rid, "completed")
    assert done["amounts"]["store_credit_total"] == 2500


def test_finance_pays_a_refused_refund_as_store_credit_in_portuguese(stack: DevStack, shop: Shop,
                                                                     page_pt: Any) -> None:  # fmt: skip
    rid = refused_refund(stack, shop)
    person(stack, page_pt, "finance", name="flor-excecoes")
    credit_from_queue(page_pt, stack, rid, {"code": "Reembolso recusado", "open": "Pagar em crédito na loja",
                                            "note": "Porquê (só para a equipa)",
                                            "confirm": "Confirmar: pagar em crédito na loja"})  # fmt: skip
    assert shop.wait_status(rid, "completed")["amounts"]["store_credit_total"] == 2500
