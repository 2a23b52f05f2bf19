"""The staff consoles (warehouse, finance, admin) in a real browser against `reverso dev`, each person invited with
`reverso staff invite` and signed in with their password (tests/support/staff_people.py).

Screenshots of every page a failed test visited go to test-artifacts/ (always, with PORTAL_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from standardwebhooks.webhooks import Webhook

from tests.support.axe import assert_accessible
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack
from tests.support.staff_people import PASSWORD, invite, person, reverso, sign_in

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium


# --- the stack, the shop's data, the browser -------------------------------------------------------


def token(stack: DevStack, role: str, name: str) -> str:
    return reverso(stack, "token", "create", "--role", role, "--name", name).strip().splitlines()[-1]


class Shop:
    """The shop's backend, a shopper and a carrier, over HTTP."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.c = httpx.Client(base_url=stack.api_url, timeout=60, trust_env=False)
        self.auth = {"Authorization": f"Bearer {token(stack, 'integration', 'staff-tests-shop')}"}
        r = self.c.put("/api/v1/inventory/TEE-M", headers=self.auth,
                       json={"title": "Tee, M", "unit_price": 2500, "currency": "EUR", "available": 5})  # fmt: skip
        assert r.status_code == 200, r.text

    def paid_order(self, quantity: int = 2, unit_price: int = 2500) -> tuple[str, str]:
        saved = stripe.api_key, stripe.api_base
        stripe.api_key, stripe.api_base = "sk_test_x", self.stack.stripe_url
        try:
            pi = stripe.PaymentIntent.create(amount=quantity * unit_price, currency="eur",
                                             payment_method="pm_card_visa", confirm=True)  # fmt: skip
        finally:
            stripe.api_key, stripe.api_base = saved
        now = datetime.now(UTC)
        number, addr = "S" + uuid.uuid4().hex[:8].upper(), f"rui-{uuid.uuid4().hex[:6]}@example.com"
        r = self.c.post("/api/v1/orders", headers=self.auth, json={
            "number": number, "email": addr, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Rui Costa", "line1": "Rua 2", "city": "Porto", "postal_code": "4000-001",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": quantity, "unit_price": unit_price}],
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return number, addr

    def file_return(self, number: str, addr: str, quantity: int) -> dict[str, Any]:
        r = self.c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
        assert r.status_code == 200, r.text
        r = self.c.post("/api/v1/returns", headers={"Authorization": f"Bearer {r.json()['token']}"},
                        json={"order_number": number, "lines": [{"line_id": "L1", "quantity": quantity,
                                                                  "reason": "too_big", "resolution": "refund"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()

    def get(self, rid: str) -> dict[str, Any]:
        r = self.c.get(f"/api/v1/returns/{rid}", headers=self.auth)
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
            assert time.monotonic() < deadline, "no inbound label"
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

    def received_return(self) -> tuple[str, str, str]:
        """A paid order of 2 tees, both sent back for a refund and delivered: (return id, tracking, e-mail)."""
        number, addr = self.paid_order()
        rid = self.file_return(number, addr, 2)["id"]
        tracking = self.tracking(rid)
        self.scan(tracking, "in_transit")
        self.wait_status(rid, "in_transit")
        self.scan(tracking, "delivered")
        self.wait_status(rid, "received")
        return rid, tracking, addr


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def _csrf(page: Any) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "staff_csrf")


# --- tests -----------------------------------------------------------------------------------------


def test_warehouse_then_finance_settle_a_partly_refused_return(stack: DevStack, shop: Shop, page: Any) -> None:
    rid, tracking, addr = shop.received_return()
    person(stack, page, "warehouse", name="wanda-warehouse")
    expect(page.locator("#who")).to_contain_text("wanda-warehouse")
    expect(page.locator("#queue")).to_contain_text(rid)
    scan = page.get_by_label("Scan or type a tracking number or return id")
    expect(scan).to_be_focused()
    snap(page, "staff-warehouse")
    scan.fill(f"  {tracking.lower()} ")  # what a scanner types, in any case, with stray spaces
    scan.press("Enter")
    page.wait_for_url(f"**/staff/returns/{rid}")
    line = page.locator("#line-L1")
    expect(line.locator(".declared")).to_contain_text("Declared by the shopper: 2")
    expect(line.locator(".declared")).to_contain_text("Too big")

    line.get_by_label("Accepted quantity").fill("3")
    line.get_by_label("Condition").select_option("opened")
    line.get_by_label("Outcome").select_option("damaged")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.locator("#l0-accepted-error")).to_have_text("3 is more than the 2 returned")
    expect(page.locator("#l0-accepted")).to_have_attribute("aria-invalid", "true")
    snap(page, "staff-inspection-error")

    line.get_by_label("Accepted quantity").fill("1")
    line.get_by_label("Condition").select_option("damaged")
    line.get_by_label("Put back in stock").uncheck()
    line.get_by_label("Note").fill("one tee torn")
    page.get_by_role("button", name="Record the inspection").click()
    page.wait_for_url(f"**/staff/warehouse?inspected={rid}")  # ready for the next parcel (issue 18)
    page.goto(f"{stack.api_url}/staff/returns/{rid}")
    expect(page.locator("#status-text")).to_have_text("Refund review", timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text(
        "inspected by the warehouse: L1: 1 accepted (damaged) (wanda-warehouse)"
    )
    expect(page.locator("#inspection")).to_have_count(0)
    expect(page.locator("#review")).to_contain_text("25.00 EUR")  # what finance will see, read-only here
    expect(page.locator("#review-approve")).to_have_count(0)
    r = page.goto(f"{stack.api_url}/staff/finance")
    assert r is not None and r.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    page.goto(f"{stack.api_url}/staff/warehouse")
    page.wait_for_url("**/staff/login")

    person(stack, page, "finance", name="fiona-finance")
    item = page.locator(f"#review-{rid}")
    expect(item).to_contain_text("25.00 EUR")  # one of two tees accepted
    expect(item.locator(".why")).to_contain_text("line L1 was partly accepted at inspection (1 of 2)")  # issue 18
    expect(item.locator(".order-total")).to_have_text("50.00 EUR")
    expect(item.locator(".paid-with")).to_have_text("Visa ending in 4242")
    expect(item).to_contain_text("1 of 2 accepted, Damaged, dispose")
    expect(item.locator(".history")).to_contain_text("1 worth")
    snap(page, "staff-finance")
    item.get_by_role("button", name="Review").click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    page.get_by_label("Amount to refund (EUR)").fill("30.00")
    page.get_by_role("button", name="Approve the refund").click()
    expect(page.locator("#amount-error")).to_have_text("The most this return can refund is 25.00 EUR.")
    page.get_by_label("Amount to refund (EUR)").fill("20.00")
    page.get_by_label("Note").fill("torn on arrival")
    page.get_by_role("button", name="Approve the refund").click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    expect(page.locator("#status-text")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text("approved by the shop (fiona-finance): torn on arrival")
    expect(page.locator("#review-approve")).to_have_count(0, timeout=10_000)  # the page reloads on a new status
    snap(page, "staff-completed")
    view = shop.get(rid)
    assert view["amounts"]["refund_total"] == 2000, view["amounts"]

    # The shopper's own status page shows the completion, in a browser session of their own.
    shopper = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    try:
        mine = shopper.new_page()
        mine.goto(f"{stack.api_url}/portal")
        mine.get_by_label("Order number").fill(view["order_number"])
        mine.get_by_label("E-mail").fill(addr)
        mine.get_by_role("button", name="Find my order").click()
        mine.wait_for_url("**/portal/order")
        mine.goto(f"{stack.api_url}/portal/returns/{rid}")
        expect(mine.locator("#status-text")).to_have_text("completed")
        expect(mine.locator("#status .timeline")).to_contain_text("approved by the shop")
        for staff_only in ("fiona-finance", "wanda-warehouse", "torn on arrival", "one tee torn"):  # staff only
            expect(mine.locator("#status")).not_to_contain_text(staff_only)
    finally:
        shopper.close()


def test_admin_approves_a_return_waiting_for_approval(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order(quantity=1, unit_price=30_000)  # above the auto-approve limit
    rid = shop.file_return(number, addr, 1)["id"]
    assert shop.get(rid)["status"] == "pending_approval"
    person(stack, page, "admin", name="ada-admin")
    page.get_by_label("Status").select_option("pending_approval")
    page.get_by_label("Order, e-mail, tracking or return id").fill(addr)
    page.get_by_role("button", name="Search").click()
    row = page.locator(f"#row-{rid}")
    expect(row).to_contain_text("Pending approval")
    link = row.get_by_role("link", name="Workflow in Temporal")
    assert link.get_attribute("href") == f"{stack.env['REVERSO_TEMPORAL_UI_URL']}/namespaces/default/workflows/{rid}"
    snap(page, "staff-returns")
    row.get_by_role("button", name="Approve", exact=True).click()  # opens the confirmation (issue 18)
    assert shop.get(rid)["status"] == "pending_approval"
    row.get_by_role("button", name="Confirm: approve").click()
    page.wait_for_url(re.compile(r".*/staff/returns\?status=pending_approval&q=.*"))
    shop.wait_status(rid, "awaiting_shipment")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(f"#row-{rid}")).to_contain_text("Awaiting shipment")
    page.goto(f"{stack.api_url}/staff/returns/{rid}")
    expect(page.locator("#timeline")).to_contain_text("ada-admin")

    other = shop.file_return(*shop.paid_order(quantity=1, unit_price=30_000), 1)["id"]
    page.goto(f"{stack.api_url}/staff/returns/{other}")
    decide = page.locator("#decide")
    decide.get_by_role("button", name="Reject", exact=True).click()  # opens the <details>
    decide.get_by_label("Reason for rejecting").fill("worn and washed")
    decide.get_by_role("button", name="Confirm: reject").click()
    expect(page.locator("#status-text")).to_have_text("Rejected", timeout=30_000)
    expect(page.locator("#decide")).to_have_count(0, timeout=10_000)


def test_forms_without_the_csrf_token_are_refused(stack: DevStack, shop: Shop, page: Any) -> None:
    address = person(stack, page, "admin", name="csrf-admin")
    page.context.clear_cookies()
    page.goto(f"{stack.api_url}/staff/login")
    r = page.context.request.post(f"{stack.api_url}/staff/login", form={"email": address, "password": PASSWORD},
                                  max_redirects=0)  # fmt: skip
    assert r.status == 403, r.status
    sign_in(page, stack, address, "/staff/returns")
    rid = "R-NOSUCH"
    for path, form in ((f"/staff/returns/{rid}/approve", {}), (f"/staff/returns/{rid}/reject", {"reason": "x"}),
                       (f"/staff/returns/{rid}/inspection", {"l0-accepted": "1"}),
                       (f"/staff/returns/{rid}/review", {"decision": "approve"}), ("/staff/logout", {})):  # fmt: skip
        for sent in (form, {**form, "csrf": "not-the-cookie"}):
            r = page.context.request.post(f"{stack.api_url}{path}", form=sent, max_redirects=0)
            assert r.status == 403, (path, r.status)
    page.goto(f"{stack.api_url}/staff/returns")  # still signed in: the refused logout changed nothing
    expect(page.locator("#who")).to_contain_text("csrf-admin")


def test_tokens_wrong_passwords_and_disabled_accounts_cannot_sign_in(stack: DevStack, page: Any) -> None:
    """The consoles take people's accounts only (issue 18): a live API token opens none, in any field of the form."""
    address = person(stack, page, "warehouse", name="leaving-soon")
    for secret in (token(stack, "admin", "robot"), token(stack, "warehouse", "scanner-script")):
        r = page.context.request.post(f"{stack.api_url}/staff/login", max_redirects=0,
                                      form={"token": secret, "email": address, "password": secret, "csrf": _csrf(page)})  # fmt: skip
        assert r.status == 401, r.status
    page.goto(f"{stack.api_url}/staff/warehouse")  # still signed in as the person: the refusals changed nothing
    expect(page.locator("#who")).to_contain_text("leaving-soon")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    page.locator("#email").fill(address)
    page.locator("#password").fill(PASSWORD + "!")
    page.locator("#sign-in").click()
    expect(page.locator("#login-error")).to_be_visible()
    assert_accessible(page, "a refused sign-in")
    sign_in(page, stack, address, "/staff/warehouse")
    reverso(stack, "staff", "disable", "--email", address)
    page.goto(f"{stack.api_url}/staff/warehouse")  # the session stops at the next request
    page.wait_for_url("**/staff/login")
    page.locator("#email").fill(address)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    expect(page.locator("#login-error")).to_be_visible()
    assert page.url.endswith("/staff/login")


def test_consoles_speak_portuguese(stack: DevStack, page_pt: Any) -> None:
    address = invite(stack, page_pt, "warehouse", name="Inês Armazém")
    page_pt.goto(f"{stack.api_url}/staff/login")
    expect(page_pt.get_by_role("heading", level=1)).to_have_text("Entrar")
    expect(page_pt.locator("#login-intro")).to_contain_text("tokens da API servem os sistemas da loja")
    page_pt.get_by_label("E-mail").fill(address)
    page_pt.get_by_label("Palavra-passe").fill(PASSWORD)
    page_pt.get_by_role("button", name="Entrar").click()
    page_pt.wait_for_url("**/staff/warehouse")
    expect(page_pt.locator("#who")).to_contain_text("Inês Armazém (armazém)")
    expect(page_pt.get_by_label("Leia ou escreva um número de seguimento ou de devolução")).to_be_focused()
    page_pt.get_by_label("Leia ou escreva um número de seguimento ou de devolução").fill("NADA-123")
    page_pt.keyboard.press("Enter")
    expect(page_pt.locator("#scan-error")).to_contain_text("Nada corresponde")
    snap(page_pt, "staff-warehouse-pt")
