"""The shopper portal in a real browser (Playwright driving Debian's chromium) against `reverso dev`.

Screenshots of every page a failed test visited go to test-artifacts/ (always, with PORTAL_SCREENSHOTS=1).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
import zxingcpp
from PIL import Image
from standardwebhooks.webhooks import Webhook

from tests.support import services
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


# --- the stack, the shop's data, the browser -------------------------------------------------------


def _token(stack: DevStack, role: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cli", "token", "create", "--role", role, "--name", f"browser-{role}"],
                          env=stack.env, cwd=services.ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


class Shop:
    """The shop's backend over HTTP: inventory, paid orders, and API-side returns."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.c = httpx.Client(base_url=stack.api_url, timeout=60, trust_env=False)
        self.auth = {"Authorization": f"Bearer {_token(stack, 'integration')}"}
        for sku, title, available in (("TEE-M", "Tee, M", 5), ("TEE-L", "Tee, L", 3), ("TEE-XL", "Tee, XL", 0)):
            r = self.c.put(f"/api/v1/inventory/{sku}", headers=self.auth,
                           json={"title": title, "unit_price": 2500, "currency": "EUR", "available": available})  # fmt: skip
            assert r.status_code == 200, r.text

    def paid_order(self, extra_lines: list[dict[str, Any]] | None = None) -> tuple[str, str]:
        saved = stripe.api_key, stripe.api_base
        stripe.api_key, stripe.api_base = "sk_test_x", self.stack.stripe_url
        try:
            pi = stripe.PaymentIntent.create(amount=5900, currency="eur", payment_method="pm_card_visa", confirm=True)
        finally:
            stripe.api_key, stripe.api_base = saved
        now = datetime.now(UTC)
        number, addr = "B" + uuid.uuid4().hex[:8].upper(), f"ana-{uuid.uuid4().hex[:6]}@example.com"
        r = self.c.post("/api/v1/orders", headers=self.auth, json={
            "number": number, "email": addr, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Lisboa", "postal_code": "1200-195",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 2, "unit_price": 2500},
                      {"id": "L2", "sku": "SOCKS-1", "title": "Socks", "quantity": 1, "unit_price": 900,
                       "final_sale": True}, *(extra_lines or [])],
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return number, addr

    def api_return(self, number: str, addr: str) -> str:
        r = self.c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
        assert r.status_code == 200, r.text
        r = self.c.post("/api/v1/returns", headers={"Authorization": f"Bearer {r.json()['token']}"},
                        json={"order_number": number, "lines": [{"line_id": "L1", "quantity": 1,
                                                                  "reason": "too_big", "resolution": "refund"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def scan(self, tracking: str, event: str) -> None:
        secret = (self.stack.state_dir / "carrier_webhook_secret").read_text().strip()
        body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
        msg_id, now = "msg_" + uuid.uuid4().hex, datetime.now(UTC)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(secret).sign(msg_id, now, body), "content-type": "application/json"}  # fmt: skip
        r = self.c.post("/api/v1/webhooks/carriers/local", content=body, headers=headers)
        assert r.status_code == 202, r.text


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def sign_in(page: Any, stack: DevStack, number: str, addr: str) -> None:
    page.goto(f"{stack.api_url}/portal")
    page.get_by_label("Order number").fill(number)
    page.get_by_label("E-mail").fill(addr)
    page.get_by_role("button", name="Find my order").click()
    page.wait_for_url("**/portal/order")


# --- tests -----------------------------------------------------------------------------------------


def test_shopper_files_a_refund_return_and_follows_it(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    expect = sync_api.expect

    final = page.locator("#line-L2")
    expect(final).to_contain_text("final sale: this item cannot be returned")
    expect(final.locator("select")).to_have_count(0)
    line = page.locator("#line-L1")
    expect(line).to_contain_text("€25.00")
    expect(page.locator("#step-2")).to_have_count(0)  # one step at a time: the reasons once an item is picked

    line.get_by_label("Quantity to return").select_option("1")
    why = page.locator("#why-L1")
    expect(why.get_by_label("Reason")).to_have_value("")  # nothing preset
    why.get_by_label("Reason").select_option("too_small")
    want = page.locator("#want-L1")
    want.get_by_label("Exchange", exact=True).check()
    expect(want.get_by_label("Exchange for")).to_contain_text("Tee, L")  # in stock, same product
    expect(want.get_by_label("Exchange for")).not_to_contain_text("Tee, XL")  # sold out
    expect(want.get_by_label("Exchange for")).not_to_contain_text("Tee, M")  # the one bought
    want.get_by_label("Refund", exact=True).check()
    expect(want.get_by_label("Exchange for")).to_have_count(0)  # no exchange fields for a refund
    expect(page.locator("#preview-refund")).to_have_text("€25.00")
    expect(page.locator("#preview-fees")).to_have_text("€0.00")
    snap(page, "portal-preview")
    assert page.url.endswith("/portal/order")  # the amounts come as a fragment, not a navigation

    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url(re.compile(r".*/portal/returns/R-[A-Z0-9]+$"))
    rid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#main")).not_to_contain_text("auto-approve limit")  # the policy's limits are the shop's
    expect(page.locator("#decision-text")).to_have_text("Approved")
    expect(page.locator("#status-text")).to_have_text("waiting for you to ship it")

    link = page.locator("#label-link")
    expect(link).to_be_visible(timeout=30_000)  # the status fragment polls until the label exists
    with page.expect_download() as got:
        link.click()
    pdf = Path(got.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF"), pdf[:20]
    assert got.value.suggested_filename == f"return-label-{rid}.pdf"
    # The same return id as a QR on screen, for drop-off without a printer: decode what the shopper sees.
    qr = page.locator("#return-qr")
    expect(qr).to_be_visible()
    seen = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert [(b.format, b.text) for b in seen] == [(zxingcpp.BarcodeFormat.QRCode, rid)]

    page.evaluate("window.__sameDocument = true")
    shop.scan(page.locator("#tracking").inner_text().strip(), "in_transit")
    expect(page.locator("#status-text")).to_have_text("in transit", timeout=30_000)
    expect(page.locator("#status .timeline")).to_contain_text("in transit")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(page.locator("#cancel-button")).to_have_count(0)  # after the first scan it can no longer be cancelled


def test_shopper_picks_a_4x6_or_an_a4_label_and_sees_the_qr(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order()
    rid = shop.api_return(number, addr)
    sign_in(page, stack, number, addr)
    page.goto(f"{stack.api_url}/portal/returns/{rid}")
    expect = sync_api.expect
    expect(page.locator("#label-link")).to_have_text("Print the label (4x6 in, label printer)", timeout=30_000)
    expect(page.locator("#label-link-a4")).to_have_text("Print the label (A4, office printer)")
    snap(page, "portal-label-choices")
    sizes = {}
    for link, name in (("#label-link", f"return-label-{rid}.pdf"), ("#label-link-a4", f"return-label-{rid}-a4.pdf")):
        with page.expect_download() as got:
            page.locator(link).click()
        assert got.value.suggested_filename == name
        pdf = Path(got.value.path()).read_bytes()
        sizes[link] = re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", pdf).groups()  # type: ignore[union-attr]
    assert sizes == {"#label-link": (b"288", b"432"), "#label-link-a4": (b"595.2756", b"841.8898")}
    seen = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("#return-qr").screenshot())))
    assert [(b.format, b.text) for b in seen] == [(zxingcpp.BarcodeFormat.QRCode, rid)]


def test_wrong_email_gets_the_generic_message(stack: DevStack, shop: Shop, page: Any) -> None:
    number, _ = shop.paid_order()
    page.goto(f"{stack.api_url}/portal")
    page.get_by_label("Order number").fill(number)
    page.get_by_label("E-mail").fill("someone.else@example.com")
    page.get_by_role("button", name="Find my order").click()
    message = "We could not find an order with this number and e-mail."
    sync_api.expect(page.locator("#find-error")).to_contain_text(message)
    wrong_number = page.context.request.post(f"{stack.api_url}/portal", form={
        "csrf": _csrf(page), "order_number": "NO-SUCH-ORDER", "email": "someone.else@example.com"})  # fmt: skip
    assert wrong_number.status == 404 and message in wrong_number.text()
    assert page.url.endswith("/portal")


def _csrf(page: Any) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "portal_csrf")


def test_another_orders_return_is_not_found(stack: DevStack, shop: Shop, page: Any) -> None:
    other_number, other_addr = shop.paid_order()
    other_rid = shop.api_return(other_number, other_addr)
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    for path in (f"/portal/returns/{other_rid}", f"/portal/returns/{other_rid}/status",
                 f"/portal/returns/{other_rid}/label.pdf", f"/portal/returns/{other_rid}/qr.svg"):  # fmt: skip
        r = page.goto(f"{stack.api_url}{path}")
        assert r is not None and r.status == 404, (path, r and r.status)
        assert other_rid not in page.content()
    sync_api.expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    r = page.context.request.post(f"{stack.api_url}/portal/returns/{other_rid}/cancel", form={"csrf": _csrf(page)},
                                  max_redirects=0)  # fmt: skip
    assert r.status == 404, r.status


def test_a_form_without_the_csrf_token_is_refused(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    lines = {"l0-qty": "1", "l0-reason": "too_small", "l0-resolution": "refund"}
    for form in (lines, {**lines, "csrf": "not-the-cookie"}):
        r = page.context.request.post(f"{stack.api_url}/portal/returns", form=form, max_redirects=0)
        assert r.status == 403, (r.status, r.text()[:300])
    r = page.context.request.post(f"{stack.api_url}/portal", form={"order_number": number, "email": addr})
    assert r.status == 403
    r = page.context.request.post(f"{stack.api_url}/portal/preview", form={**lines, "csrf": _csrf(page)})
    assert r.status == 200 and "€25.00" in r.text()  # the same request with the token is served
    sync_api.expect(page.locator("#line-L1")).to_be_visible()  # nothing was filed
    assert "/portal/returns/" not in page.content()


def test_portal_speaks_portuguese_from_accept_language(stack: DevStack, shop: Shop, page_pt: Any) -> None:
    number, addr = shop.paid_order()
    page_pt.goto(f"{stack.api_url}/portal")
    sync_api.expect(page_pt.get_by_role("heading", level=1)).to_have_text("Encontrar a sua encomenda")
    assert page_pt.locator("html").get_attribute("lang") == "pt-PT"
    page_pt.get_by_label("Número da encomenda").fill(number)
    page_pt.get_by_label("E-mail").fill(addr)
    page_pt.get_by_role("button", name="Encontrar a encomenda").click()
    page_pt.wait_for_url("**/portal/order")
    sync_api.expect(page_pt.get_by_role("button", name="Terminar sessão")).to_be_visible()
    sync_api.expect(page_pt.locator("#line-L2")).to_contain_text("venda final")
    sync_api.expect(page_pt.locator("#line-L1").get_by_label("Quantidade a devolver")).to_be_visible()
    page_pt.locator("#line-L1").get_by_label("Quantidade a devolver").select_option("1")
    sync_api.expect(page_pt.locator("#step-2-heading")).to_have_text("2. Porque os devolve?")
    snap(page_pt, "portal-order-pt")
    page_pt.get_by_role("link", name="English").click()
    sync_api.expect(page_pt.locator("#line-L2")).to_contain_text("final sale")
    page_pt.goto(f"{stack.api_url}/portal/order")  # the choice sticks (cookie) over Accept-Language
    sync_api.expect(page_pt.get_by_role("heading", level=1)).to_have_text(f"Order {number}")


def test_refused_lines_show_their_reason_and_a_return_can_be_cancelled(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    post = page.context.request.post
    too_many = {"csrf": _csrf(page), "l0-qty": "5", "l0-reason": "too_small", "l0-resolution": "refund"}
    r = post(f"{stack.api_url}/portal/returns", form=too_many, max_redirects=0)
    assert r.status == 422 and "only 2 of this item can still be returned" in r.text(), r.text()[:500]
    no_variant = {**too_many, "l0-qty": "1", "l0-resolution": "exchange"}
    r = post(f"{stack.api_url}/portal/returns", form=no_variant, max_redirects=0)
    assert r.status == 422 and "Choose the variant you want in exchange." in r.text(), r.text()[:500]

    rid = shop.api_return(number, addr)
    page.goto(f"{stack.api_url}/portal/returns/{rid}")
    page.get_by_role("button", name="Cancel this return").click()
    sync_api.expect(page.locator("#status-text")).to_have_text("cancelled")
    sync_api.expect(page.locator("#label-link")).to_have_count(0)
    page.goto(f"{stack.api_url}/portal/order")
    sync_api.expect(page.locator("#line-L1 .returnable")).to_have_text("2")  # the cancelled claim is released


def test_a_shopper_signs_out_and_the_session_is_gone(stack: DevStack, shop: Shop, page: Any) -> None:
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    session = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/portal$"))
    sync_api.expect(page.get_by_role("heading", level=1)).to_have_text("Find your order")
    sync_api.expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.context.add_cookies([session])  # a copy taken before signing out opens nothing
    page.goto(f"{stack.api_url}/portal/order")
    page.wait_for_url(re.compile(r".*/portal$"))
    r = shop.c.get("/api/v1/portal/order", headers={"Authorization": f"Bearer {session['value']}"})
    assert r.status_code == 401, r.status_code


def test_api_docs_render_offline(stack: DevStack, page: Any) -> None:
    """/docs is Swagger UI served from our own static files: it works on a machine with no internet."""
    page.goto(f"{stack.api_url}/docs")
    sync_api.expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(p.replace("\u200b", "") == "/api/v1/returns" for p in paths), paths
