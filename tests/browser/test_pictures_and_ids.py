"""Issue 19 in Chromium on a phone (390 px): each item a shopper returns is shown with its product's picture on their
return page, and staff see the same pictures where they look at the items (the return, the inspection, finance's
queue), an exchange's replacement with its own; a picture from an origin the shop's brand does not name is not shown
at all. Ids stay whole in headings (R-8K2J4M9QX1 never breaks at its hyphen), and an order number longer than a
phone's line still makes no page scroll sideways.

The shop's pictures come from a small HTTP server of the test's own, named in REVERSO_BRAND__IMAGE_ORIGINS, so the
browser really loads them under the pages' CSP."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from PIL import Image

from tests.browser.test_portal_return_page import open_order
from tests.browser.test_staff_consoles import Shop
from tests.support import services
from tests.support.axe import assert_accessible, sideways_overflow
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack
from tests.support.staff_people import person

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), (30, 110, 160)).save(out, "PNG")
    return out.getvalue()


class _Pictures(BaseHTTPRequestHandler):
    """The shop's picture host: a PNG at every path."""

    body = _png()

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
        pass


@pytest.fixture(scope="module")
def picture_host() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pictures)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(picture_host: int) -> Iterator[DevStack]:
    """`reverso dev` whose brand names the picture host by 127.0.0.1 (and not as localhost)."""
    origins = json.dumps([f"http://127.0.0.1:{picture_host}"])
    with services.scratch_dir("reverso-test_pictures_and_ids-") as tmp:
        with services.dev_stack(tmp, REVERSO_BRAND__IMAGE_ORIGINS=origins) as running:
            yield running


class PictureShop(Shop):
    """The shop's backend: tees as variants of one product with pictures, and orders whose lines carry theirs."""

    def __init__(self, stack: DevStack, picture_host: int) -> None:
        super().__init__(stack)
        self.allowed, self.elsewhere = f"http://127.0.0.1:{picture_host}", f"http://localhost:{picture_host}"
        for size, available in (("M", 50), ("L", 50)):
            r = self.c.put(f"/api/v1/inventory/PIC-TEE-{size}", headers=self.auth, json={
                "title": f"Tee, {size}", "unit_price": 2500, "currency": "EUR", "available": available,
                "product": "pic-tee", "options": {"size": size}, "image_url": f"{self.allowed}/tee-{size}.png"})  # fmt: skip
            assert r.status_code == 200, r.text

    def order_with_pictures(self) -> tuple[str, str]:
        """A tee whose picture the brand allows and a cap whose picture comes from elsewhere; the order's number is
        longer than a phone's line. (number, e-mail)"""
        saved = stripe.api_key, stripe.api_base
        stripe.api_key, stripe.api_base = "sk_test_x", self.stack.stripe_url
        try:
            pi = stripe.PaymentIntent.create(amount=3400, currency="eur", payment_method="pm_card_visa", confirm=True)
        finally:
            stripe.api_key, stripe.api_base = saved
        now = datetime.now(UTC)
        number = f"WEB-{now:%Y-%m-%d}-{uuid.uuid4().hex[:20].upper()}-PT-LISBOA"
        addr = f"lia-{uuid.uuid4().hex[:6]}@example.com"
        r = self.c.post("/api/v1/orders", headers=self.auth, json={
            "number": number, "email": addr, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Lia Reis", "line1": "Rua 4", "city": "Faro", "postal_code": "8000-001",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "PIC-TEE-M", "title": "Tee, M", "quantity": 1, "unit_price": 2500,
                       "image_url": f"{self.allowed}/tee-M.png"},
                      {"id": "L2", "sku": "PIC-CAP", "title": "Cap", "quantity": 1, "unit_price": 900,
                       "image_url": f"{self.elsewhere}/cap.png"}],
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return number, addr

    def exchange_and_refund(self, number: str, addr: str) -> str:
        """The tee exchanged for the L, the cap refunded: the return's id."""
        r = self.c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
        assert r.status_code == 200, r.text
        lines = [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange",
                  "exchange_sku": "PIC-TEE-L"},
                 {"line_id": "L2", "quantity": 1, "reason": "changed_mind", "resolution": "refund"}]  # fmt: skip
        r = self.c.post("/api/v1/returns", headers={"Authorization": f"Bearer {r.json()['token']}"},
                        json={"order_number": number, "lines": lines})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


@pytest.fixture(scope="module")
def shop(stack: DevStack, picture_host: int) -> Iterator[PictureShop]:
    s = PictureShop(stack, picture_host)
    yield s
    s.c.close()


def shown(img: Any) -> None:
    """The picture is in the page, sized and lazy, says nothing beside its title, and the browser loaded it."""
    expect(img).to_have_attribute("alt", "")
    expect(img).to_have_attribute("loading", "lazy")
    assert img.get_attribute("width") and img.get_attribute("height")
    img.scroll_into_view_if_needed()
    img.page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())


def on_one_line(page: Any, selector: str) -> None:
    """The element's text takes one line: its box is no taller than one of its lines."""
    height, line = page.locator(selector).first.evaluate(
        """e => { const s = getComputedStyle(e); const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.2;
                  return [e.getBoundingClientRect().height, line]; }"""
    )
    assert height < 1.5 * line, f"{selector} takes {height:.0f} px, lines of {line:.0f} px: it is broken"


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_the_shoppers_return_page_shows_each_item_with_its_picture_and_the_id_whole(
    stack: DevStack, shop: PictureShop, page: Any, lang: str
) -> None:
    number, addr = shop.order_with_pictures()
    rid = shop.exchange_and_refund(number, addr)
    open_order(page, stack, number, addr, lang)
    assert sideways_overflow(page) == 0, "the order page with a long order number scrolls sideways"
    page.goto(f"{stack.api_url}/portal/returns/{rid}?lang={lang}")
    expect(page.locator("h1 .id")).to_have_text(rid)
    on_one_line(page, "h1 .id")  # "Devolução R-..." broke after "R-" at 390 px
    expect(page.locator("hgroup p .id")).to_have_text(number)

    tee, cap = page.locator("#item-1"), page.locator("#item-2")
    expect(tee).to_contain_text("Tee, M")
    shown(tee.locator("img.thumb").first)
    expect(tee.locator("img.thumb").first).to_have_attribute("src", f"{shop.allowed}/tee-M.png")
    shown(tee.locator("img.replacement"))  # what comes back: the L
    expect(tee.locator("img.replacement")).to_have_attribute("src", f"{shop.allowed}/tee-L.png")
    expect(cap).to_contain_text("Cap")
    expect(cap.locator("img")).to_have_count(0)  # its origin is not the brand's: no picture, not a broken one
    assert sideways_overflow(page) == 0, "the return page scrolls sideways"
    assert_accessible(page, f"the return page with pictures ({lang})")


def test_staff_see_each_item_with_its_picture_and_the_id_whole(stack: DevStack, shop: PictureShop, page: Any) -> None:
    number, addr = shop.order_with_pictures()
    rid = shop.exchange_and_refund(number, addr)
    tracking = shop.tracking(rid)
    shop.scan(tracking, "in_transit")
    shop.wait_status(rid, "in_transit")
    shop.scan(tracking, "delivered")
    shop.wait_status(rid, "received")

    person(stack, page, "warehouse", "finance", name="Pia Pictures")
    page.goto(f"{stack.api_url}/staff/returns/{rid}")
    expect(page.locator("h1 .id")).to_have_text(rid)
    on_one_line(page, "h1 .id")
    tee, cap = page.locator("#line-L1"), page.locator("#line-L2")
    shown(tee.locator("legend img.pic"))
    expect(tee.locator("legend img.pic")).to_have_attribute("src", f"{shop.allowed}/tee-M.png")
    shown(tee.locator(".declared img.pic"))  # the replacement beside its SKU
    expect(cap.locator("img")).to_have_count(0)
    assert sideways_overflow(page) == 0, "the inspection scrolls sideways"
    snap(page, "staff-inspection-pictures")

    # The tee as described, the cap refused: the refund goes to finance, who see the items with their pictures.
    for i, (accepted, condition, outcome) in enumerate((("1", "new", "as_described"), ("0", "damaged", "damaged"))):
        page.locator(f"#l{i}-accepted").fill(accepted)
        page.locator(f"#l{i}-condition").select_option(condition)
        page.locator(f"#l{i}-outcome").select_option(outcome)
    page.locator("#inspection-submit").click()
    page.wait_for_url(f"**/staff/warehouse?inspected={rid}")
    on_one_line(page, "#inspected .id")
    shop.wait_status(rid, "pending_refund_review")
    page.goto(f"{stack.api_url}/staff/finance")
    review = page.locator(f"#review-{rid}")
    expect(review.locator("img.pic")).to_have_count(2)  # the tee and its replacement; the cap has none
    shown(review.locator("img.pic").first)
    assert sideways_overflow(page) == 0, "finance's queue scrolls sideways"
    snap(page, "staff-finance-pictures")
