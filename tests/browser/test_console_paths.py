"""More journeys through the portal and the staff consoles in a real browser against `reverso dev`.

An exchange, store credit, a denied refund, the admin list's pages and search, and the portal in
Portuguese. Screenshots of every page a failed test visited go to test-artifacts/ (always, with
PORTAL_SCREENSHOTS=1).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import stripe
from standardwebhooks.webhooks import Webhook

from api.i18n import translator
from tests.support import services
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack
from tests.support.staff_people import person

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
RETURN_URL = re.compile(r".*/portal/returns/R-[A-Z0-9]+$")

pytestmark = needs_chromium


# --- the stack, the shop's data, the browser -------------------------------------------------------


def token(stack: DevStack, role: str, name: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cli", "token", "create", "--role", role, "--name", name],
                          env=stack.env, cwd=services.ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class Shop:
    """The shop's backend, a shopper, a carrier and the warehouse, over HTTP."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.c = httpx.Client(base_url=stack.api_url, timeout=60, trust_env=False)
        self.auth = bearer(token(stack, "integration", "paths-shop"))
        self.warehouse = bearer(token(stack, "warehouse", "paths-warehouse"))
        for sku, title, available in (("TEE-M", "Tee, M", 50), ("TEE-L", "Tee, L", 3), ("TEE-XL", "Tee, XL", 0)):
            r = self.c.put(f"/api/v1/inventory/{sku}", headers=self.auth,
                           json={"title": title, "unit_price": 2500, "currency": "EUR", "available": available})  # fmt: skip
            assert r.status_code == 200, r.text

    def paid_order(self, quantity: int = 2, unit_price: int = 2500) -> tuple[str, str, str]:
        """An order of `quantity` tees paid with a real (localstripe) PaymentIntent: (number, e-mail, intent id)."""
        saved = stripe.api_key, stripe.api_base
        stripe.api_key, stripe.api_base = "sk_test_x", self.stack.stripe_url
        try:
            pi = stripe.PaymentIntent.create(amount=quantity * unit_price, currency="eur",
                                             payment_method="pm_card_visa", confirm=True)  # fmt: skip
        finally:
            stripe.api_key, stripe.api_base = saved
        now = datetime.now(UTC)
        number, addr = "P" + uuid.uuid4().hex[:8].upper(), f"eva-{uuid.uuid4().hex[:6]}@example.com"
        r = self.c.post("/api/v1/orders", headers=self.auth, json={
            "number": number, "email": addr, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Eva Lima", "line1": "Rua 3", "city": "Braga", "postal_code": "4700-001",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": quantity, "unit_price": unit_price}],
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return number, addr, pi.id

    def shopper(self, number: str, addr: str) -> dict[str, str]:
        r = self.c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
        assert r.status_code == 200, r.text
        return bearer(r.json()["token"])

    def file_return(self, number: str, auth: dict[str, str], quantity: int = 1) -> str:
        r = self.c.post("/api/v1/returns", headers=auth,
                        json={"order_number": number, "lines": [{"line_id": "L1", "quantity": quantity,
                                                                  "reason": "too_big", "resolution": "refund"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def get(self, rid: str, auth: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.c.get(f"/api/v1/returns/{rid}", headers=auth or self.auth)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_status(self, rid: str, status: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (view := self.get(rid))["status"] != status:
            assert time.monotonic() < deadline, f"{rid} is {view['status']}, not {status}"
            time.sleep(0.3)
        return view

    def tracking(self, rid: str) -> str:
        deadline = time.monotonic() + 60
        while not (inbound := [s for s in self.get(rid)["shipments"] if s["direction"] == "inbound"]):
            assert time.monotonic() < deadline, f"{rid}: no inbound label"
            time.sleep(0.3)
        return inbound[0]["tracking_number"]

    def scan(self, tracking: str, event: str) -> None:
        secret = (self.stack.state_dir / "carrier_webhook_secret").read_text().strip()
        body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
        msg_id, now = "msg_" + uuid.uuid4().hex, datetime.now(UTC)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(secret).sign(msg_id, now, body), "content-type": "application/json"}  # fmt: skip
        r = self.c.post("/api/v1/webhooks/carriers/local", content=body, headers=headers)
        assert r.status_code == 202, r.text

    def deliver(self, rid: str) -> None:
        """The carrier picks the parcel up and delivers it to the warehouse."""
        tracking = self.tracking(rid)
        self.scan(tracking, "in_transit")
        self.wait_status(rid, "in_transit")
        self.scan(tracking, "delivered")
        self.wait_status(rid, "received")

    def inspect(self, rid: str, accepted: int, condition: str = "new", restock: bool = True) -> dict[str, Any]:
        line = {"line_id": "L1", "accepted_quantity": accepted, "condition": condition, "restock": restock}
        r = self.c.post(f"/api/v1/returns/{rid}/inspection", headers=self.warehouse, json={"lines": [line]})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def find_order(page: Any, stack: DevStack, number: str, addr: str) -> None:
    page.goto(f"{stack.api_url}/portal")
    page.get_by_label("Order number").fill(number)
    page.get_by_label("E-mail").fill(addr)
    page.get_by_role("button", name="Find my order").click()
    page.wait_for_url("**/portal/order")


def mails(stack: DevStack, rid: str, kind: str, timeout: float = 30) -> list[EmailMessage]:
    """The e-mails of this kind about this return in the SMTP sink, waiting for at least one."""
    deadline = time.monotonic() + timeout
    while True:
        found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                 for p in sorted(stack.mail_dir.glob("*.eml"))]  # fmt: skip
        mine = [m for m in found if m["X-Reverso-Return"] == rid and m["X-Reverso-Kind"] == kind]
        if mine or time.monotonic() > deadline:
            return mine  # type: ignore[return-value]
        time.sleep(0.3)


def choose(page: Any, reason: str, resolution: str) -> None:
    """The order form's three steps for its first line: one unit, the reason, what the shopper wants."""
    page.locator('select[name="l0-qty"]').select_option("1")
    page.locator('select[name="l0-reason"]').select_option(reason)
    page.locator(f'input[name="l0-resolution"][value="{resolution}"]').check()


# --- tests -----------------------------------------------------------------------------------------


def test_shopper_exchanges_a_tee_for_another_size(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr, _ = shop.paid_order()
    find_order(page, stack, number, addr)
    choose(page, "too_small", "exchange")  # the form's three steps
    exchange_for = page.locator('select[name="l0-exchange"]')
    expect(exchange_for.locator('option[value="TEE-L"]')).to_have_count(1)  # in stock, same product
    expect(exchange_for.locator('option[value="TEE-XL"]')).to_have_count(0)  # sold out
    exchange_for.select_option("TEE-L")
    expect(page.locator("#preview-refund")).to_have_text("€0.00")  # the amounts follow the choice
    snap(page, "paths-exchange-preview")

    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url(RETURN_URL)
    rid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#decision-text")).to_have_text("Approved")
    expect(page.locator("#decision")).to_contain_text("(for Tee, L)")  # the replacement by name, not its SKU
    expect(page.locator("#decision")).not_to_contain_text("TEE-L")
    expect(page.locator("#status-text")).to_have_text("waiting for you to ship it")
    expect(page.locator("#label-link")).to_be_visible(timeout=30_000)

    shop.deliver(rid)
    shop.inspect(rid, accepted=1)
    expect(page.locator("#status-text")).to_have_text("completed", timeout=30_000)  # live, without a reload
    snap(page, "paths-exchange-completed")

    view = shop.get(rid, shop.shopper(number, addr))  # as the shopper sees it through the API
    assert view["status"] == "completed"
    outbound = [s for s in view["shipments"] if s["direction"] == "outbound"]
    assert len(outbound) == 1 and outbound[0]["tracking_number"], view["shipments"]
    assert [(x["exchange_sku"], x["exchanged_quantity"]) for x in view["lines"]] == [("TEE-L", 1)], view["lines"]
    assert view["amounts"]["refund_total"] == 0, view["amounts"]


def test_shopper_takes_store_credit_and_gets_a_working_code(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr, _ = shop.paid_order()
    find_order(page, stack, number, addr)
    choose(page, "changed_mind", "store_credit")
    expect(page.locator("#preview-credit")).to_have_text("€25.00")
    expect(page.locator("#preview-refund")).to_have_text("€0.00")
    snap(page, "paths-credit-preview")

    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url(RETURN_URL)
    rid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#decision-text")).to_have_text("Approved")
    shop.deliver(rid)
    shop.inspect(rid, accepted=1)
    expect(page.locator("#status-text")).to_have_text("completed", timeout=30_000)

    sent = mails(stack, rid, "completed")
    assert len(sent) == 1, f"{len(sent)} completed e-mails for {rid}"
    body = sent[0].get_body(preferencelist=("plain", "html"))
    assert body is not None
    codes = set(re.findall(r"\bSC-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b", body.get_content()))
    assert len(codes) == 1, body.get_content()
    code = codes.pop()
    assert shop.get(rid)["store_credit_code"] == code
    r = shop.c.get(f"/api/v1/store-credit/{code}", headers=shop.auth)
    assert r.status_code == 200, r.text
    assert (r.json()["balance"], r.json()["currency"]) == (2500, "EUR"), r.json()
    r = shop.c.get(f"/api/v1/store-credit/{code}", headers=shop.shopper(number, addr))
    assert r.status_code in (401, 403), r.status_code  # the shop's checkout reads it, not the shopper


def test_finance_denies_a_refund_with_a_note(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr, intent = shop.paid_order()
    rid = shop.file_return(number, shop.shopper(number, addr), quantity=2)
    shop.deliver(rid)
    shop.inspect(rid, accepted=1, condition="damaged", restock=False)  # one refused: finance must review
    shop.wait_status(rid, "pending_refund_review")

    person(stack, page, "finance", name="frida-finance")
    item = page.locator(f"#review-{rid}")
    expect(item).to_contain_text("25.00 EUR")
    item.get_by_role("button", name="Review").click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    page.get_by_role("button", name="Deny the refund").click()  # a denial needs a reason
    expect(page.locator("#note-error")).to_have_text("Say why the refund is denied.")
    assert shop.get(rid)["status"] == "pending_refund_review"
    page.get_by_label("Note").fill("both tees worn and washed")
    page.get_by_role("button", name="Deny the refund").click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    expect(page.locator("#status-text")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text(
        "refund denied by the shop (frida-finance): both tees worn and washed"
    )
    expect(page.locator("#review-deny")).to_have_count(0, timeout=10_000)
    snap(page, "paths-denied")

    view = shop.get(rid)
    assert view["status"] == "completed" and view["amounts"]["refund_total"] == 0, view["amounts"]
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = "sk_test_x", stack.stripe_url
    try:
        refunds = stripe.Refund.list(payment_intent=intent)
    finally:
        stripe.api_key, stripe.api_base = saved
    assert [x.id for x in refunds.data] == [], refunds  # localstripe lists the refunds of the intent's charge
    page.goto(f"{stack.api_url}/staff/finance")
    expect(page.locator(f"#review-{rid}")).to_have_count(0)  # off the queue


def test_admin_pages_through_searches_and_filters_returns(stack: DevStack, shop: Shop, page: Any) -> None:
    # 22 one-unit returns of one order stay under the auto-approve limit together (it counts the order's other returns)
    busy, busy_addr, _ = shop.paid_order(quantity=22, unit_price=1000)
    auth = shop.shopper(busy, busy_addr)
    many = [shop.file_return(busy, auth) for _ in range(22)]
    other, other_addr, _ = shop.paid_order()
    others = [shop.file_return(other, shop.shopper(other, other_addr))]
    big, big_addr, _ = shop.paid_order(quantity=1, unit_price=30_000)  # above the auto-approve limit
    waiting = shop.file_return(big, shop.shopper(big, big_addr))
    for rid in [*many, *others]:  # the labels are made: nothing moves up the list while we page through it
        shop.tracking(rid)
    assert shop.get(waiting)["status"] == "pending_approval"

    person(stack, page, "admin", name="adao-admin")
    rows = page.locator("#results tr.result")
    expect(page.locator("#next")).to_be_visible()  # more than 20 returns in all
    expect(rows).to_have_count(20)
    first_page = {x.removeprefix("row-") for x in rows.evaluate_all("els => els.map(e => e.id)")}
    page.locator("#next").click()
    page.wait_for_url(re.compile(r".*/staff/returns\?page=2$"))
    expect(page.locator("#prev")).to_be_visible()
    second_page = {x.removeprefix("row-") for x in rows.evaluate_all("els => els.map(e => e.id)")}
    assert second_page and not first_page & second_page, (first_page, second_page)

    page.get_by_label("Order, e-mail, tracking or return id").fill(busy)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#total")).to_contain_text("22")
    expect(rows).to_have_count(20)
    found = {x.removeprefix("row-") for x in rows.evaluate_all("els => els.map(e => e.id)")}
    expect(page.locator("#next")).to_be_visible()
    page.locator("#next").click()
    page.wait_for_url(re.compile(r".*/staff/returns\?q=" + busy + r"&page=2$"))
    expect(rows).to_have_count(2)
    found |= {x.removeprefix("row-") for x in rows.evaluate_all("els => els.map(e => e.id)")}
    assert found == set(many)
    expect(page.locator("#next")).to_have_count(0)
    expect(page.locator("#results")).not_to_contain_text(other)
    snap(page, "paths-admin-search")

    page.get_by_label("Order, e-mail, tracking or return id").fill("")
    page.get_by_label("Status").select_option("pending_approval")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*/staff/returns\?status=pending_approval&q=&sort=-updated_at$"))
    expect(page.locator(f"#row-{waiting}")).to_be_visible()
    expect(page.locator(f"#row-{others[0]}")).to_have_count(0)
    statuses = page.locator("#results mark.status").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses and set(statuses) == {"pending_approval"}, statuses
    r = shop.c.get("/api/v1/returns", params={"status": "pending_approval", "limit": 200},
                   headers=bearer(token(stack, "admin", "adao-api")))  # fmt: skip
    assert r.status_code == 200, r.text
    expect(page.locator("#total")).to_contain_text(str(r.json()["total"]))
    expect(rows).to_have_count(min(20, r.json()["total"]))


def test_whole_shopper_journey_in_portuguese(stack: DevStack, shop: Shop, page_pt: Any) -> None:
    pt, en = translator("pt"), translator("en")
    shipping = pt("status.awaiting_shipment")
    assert shipping != en("status.awaiting_shipment")
    number, addr, _ = shop.paid_order()
    page = page_pt
    page.goto(f"{stack.api_url}/portal")
    assert page.locator("html").get_attribute("lang") == "pt-PT"
    page.get_by_label("Número da encomenda").fill(number)
    page.get_by_label("E-mail").fill(addr)
    page.get_by_role("button", name="Encontrar a encomenda").click()
    page.wait_for_url("**/portal/order")
    choose(page, "too_small", "refund")
    expect(page.locator("#preview")).to_contain_text("O que recebe")
    expect(page.locator("#preview-refund")).to_contain_text("25")
    snap(page, "paths-pt-preview")

    page.get_by_role("button", name="Pedir a devolução").click()
    page.wait_for_url(RETURN_URL)
    rid = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Devolução {rid}")
    expect(page.locator("#decision-text")).to_have_text(pt("return.approved"))
    expect(page.locator("#status-text")).to_have_text(shipping)
    expect(page.locator("#label-link")).to_have_text(pt("return.label"), timeout=30_000)
    snap(page, "paths-pt-return")

    shop.scan(shop.tracking(rid), "in_transit")
    expect(page.locator("#status-text")).to_have_text(pt("status.in_transit"), timeout=30_000)
    assert page.locator("html").get_attribute("lang") == "pt-PT"
