"""The shopper's e-mails read in Chromium at 390 px and 1280 px, in English and Portuguese (issue 19): a return held
for approval, approved by a named admin, inspected by a named warehouse worker with a note and refunded; then the HTML
part of every e-mail that shopper got is opened as a mail client shows it, and must read as the shop's: in the
shopper's language, the shop's logo on its colour, the item's title, quantity and picture, a link to the return's page
for what comes next, a plain-text part beside it, nothing internal (tests/api/test_nothing_internal.py's check), no
axe-core violation of any impact and nothing scrolling sideways.

The stack is branded (logo, colour, support address, policy link) and its pictures come from a small image server of
the test's own, named in REVERSO_BRAND__IMAGE_ORIGINS as a shop's CDN would be. A screenshot of each e-mail is kept in
$REVERSO_SCREENSHOTS_DIR/emails, else test-artifacts/emails/.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe
from PIL import Image, ImageDraw

from tests.api.test_nothing_internal import ADMIN, INSPECTION_NOTE, LINE_ID, SKU, WAREHOUSE, leaks, visible
from tests.browser.test_console_paths import Shop, bearer, mails, token
from tests.support import services
from tests.support.axe import assert_accessible, sideways_overflow
from tests.support.browser import ARTIFACTS, needs_chromium
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium

SHOTS = Path(os.environ.get("REVERSO_SCREENSHOTS_DIR") or ARTIFACTS) / "emails"
SHOP_NAME, COLOUR, COLOUR_RGB = "Loja da Ana", "#c0392b", "rgb(192, 57, 43)"
TITLE = "Linen shirt"
# Held for approval (2 x 150.00 is above the default policy's auto-approve limit), so the shopper gets every e-mail
# of a refunded return: submitted, label, received, completed.
KINDS = {"submitted", "label", "received", "completed"}
# What the shopper's language shows, and what the other one would.
WORDS = {"en": {"tag": "en", "hello": "Hello,", "items": "Items in this return:", "quantity": "Quantity: 2",
                "refund": "€300.00"},
         "pt": {"tag": "pt-PT", "hello": "Olá,", "items": "Artigos desta devolução:", "quantity": "Quantidade: 2",
                "refund": "300,00\xa0€"}}  # fmt: skip


class Pictures:
    """The shop's image server: a logo and a product picture, PNGs made here."""

    def __init__(self) -> None:
        self.files = {"/logo.png": _png(160, 40, (255, 255, 255), SHOP_NAME),
                      "/linen-shirt.png": _png(128, 128, (210, 190, 150))}  # fmt: skip
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = files.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", services.free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _png(width: int, height: int, colour: tuple[int, int, int], words: str = "") -> bytes:
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).text((10, height // 2), words, fill=(192, 57, 43), anchor="lm", font_size=20)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def pictures() -> Iterator[Pictures]:
    p = Pictures()
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture(scope="module")
def stack(pictures: Pictures, request: pytest.FixtureRequest) -> Iterator[DevStack]:
    """This module's `reverso dev`, branded as a shop would brand it."""
    brand = {"REVERSO_SHOP_NAME": SHOP_NAME, "REVERSO_BRAND__COLOR": COLOUR,
             "REVERSO_BRAND__LOGO_URL": f"{pictures.origin}/logo.png",
             "REVERSO_BRAND__IMAGE_ORIGINS": json.dumps([pictures.origin]),
             "REVERSO_BRAND__SUPPORT_EMAIL": "ajuda@loja.example",
             "REVERSO_BRAND__POLICY_URL": "https://loja.example/devolucoes"}  # fmt: skip
    with services.scratch_dir("reverso-test_portal_emails-") as tmp:
        with services.dev_stack(tmp, **brand) as running:
            yield running


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def paid_order(shop: Shop, lang: str, picture: str) -> tuple[str, str]:
    """Two linen shirts at 150.00, paid with a real (localstripe) PaymentIntent; in Portuguese the order names the
    shopper's language. (number, e-mail)"""
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = "sk_test_x", shop.stack.stripe_url
    try:
        pi = stripe.PaymentIntent.create(amount=30000, currency="eur", payment_method="pm_card_visa", confirm=True)
    finally:
        stripe.api_key, stripe.api_base = saved
    now = datetime.now(UTC)
    number, addr = "M" + uuid.uuid4().hex[:8].upper(), f"ana-{uuid.uuid4().hex[:6]}@example.com"
    r = shop.c.post("/api/v1/orders", headers=shop.auth, json={
        "number": number, "email": addr, "currency": "EUR",
        "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
        "payment": {"provider": "stripe", "reference": pi.id},
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua das Flores 28", "city": "Porto",
                             "postal_code": "4050-262", "country": "PT"},
        "lines": [{"id": LINE_ID, "sku": SKU, "title": TITLE, "quantity": 2, "unit_price": 15000,
                   "image_url": picture}],
    } | ({"locale": "pt-PT"} if lang == "pt" else {}))  # fmt: skip
    assert r.status_code == 201, r.text
    return number, addr


Walked = tuple[str, str, list[EmailMessage]]  # the return's id, the shopper's address, their e-mails


@pytest.fixture(scope="module")
def walk(stack: DevStack, shop: Shop, pictures: Pictures) -> Callable[[str], Walked]:
    """A return taken to its refund once per language; what the shopper got."""
    admin = bearer(token(stack, "admin", ADMIN))
    warehouse = bearer(token(stack, "warehouse", WAREHOUSE))
    done: dict[str, Walked] = {}

    def once(lang: str) -> Walked:
        if lang in done:
            return done[lang]
        number, addr = paid_order(shop, lang, f"{pictures.origin}/linen-shirt.png")
        r = shop.c.post("/api/v1/returns", headers=shop.shopper(number, addr), json={
            "order_number": number,
            "lines": [{"line_id": LINE_ID, "quantity": 2, "reason": "too_big", "resolution": "refund"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert r.json()["status"] == "pending_approval"
        assert (r := shop.c.post(f"/api/v1/returns/{rid}/approve", headers=admin)).status_code == 200, r.text
        shop.deliver(rid)
        inspection = {"lines": [{"line_id": LINE_ID, "accepted_quantity": 2, "condition": "new", "restock": True,
                                 "note": INSPECTION_NOTE}]}  # fmt: skip
        r = shop.c.post(f"/api/v1/returns/{rid}/inspection", headers=warehouse, json=inspection)
        assert r.status_code == 200, r.text
        shop.wait_status(rid, "completed")
        assert mails(stack, rid, "completed"), "no completion e-mail"
        got = [m for m in _mailbox(stack) if m["To"] == addr]
        assert {str(m["X-Reverso-Kind"]) for m in got} == KINDS
        done[lang] = (rid, addr, got)
        return done[lang]

    return once


# For each place outside a link where the text says `rid`, on how many lines its characters are drawn.
WHOLE = """rid => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest("a")) continue;
        for (let at = node.data.indexOf(rid); at >= 0; at = node.data.indexOf(rid, at + 1)) {
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + rid.length);
            found.push(new Set([...range.getClientRects()].map(r => Math.round(r.top))).size);
        }
    }
    return found;
}"""


def _mailbox(stack: DevStack) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(stack.mail_dir.glob("*.eml"))]  # type: ignore[misc]  # fmt: skip


def _part(msg: EmailMessage, kind: str) -> str:
    part = next((p for p in msg.walk() if p.get_content_type() == kind), None)
    assert part is not None, f"{msg['X-Reverso-Kind']}: no {kind} part"
    return str(part.get_content())


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_every_email_of_a_refunded_return_reads_as_the_shops_in_the_shoppers_language(
    stack: DevStack, pictures: Pictures, walk: Callable[[str], Walked], page: Any, lang: str, width: int
) -> None:
    rid, _, got = walk(lang)
    words, other = WORDS[lang], WORDS["pt" if lang == "en" else "en"]
    return_page = f"{stack.api_url}/portal/returns/{rid}"
    picture = f"{pictures.origin}/linen-shirt.png"
    page.set_viewport_size({"width": width, "height": 900})
    for msg in sorted(got, key=lambda m: str(m["X-Reverso-Kind"])):
        kind, subject = str(msg["X-Reverso-Kind"]), str(msg["Subject"])
        name = f"{kind}-{lang}-{width}"
        text, html = _part(msg, "text/plain"), _part(msg, "text/html")

        # The plain-text part says the same: the item and its quantity, the link.
        assert f"2 × {TITLE}" in text and return_page in text, (name, text)
        assert words["hello"] in text and other["hello"] not in text, (name, text)

        page.set_content(html, wait_until="load")  # the pictures loaded, as a mail client shows them
        assert page.locator("html").get_attribute("lang") == words["tag"], name
        body = page.locator("body")
        expect(body).to_contain_text(words["hello"])
        expect(body).to_contain_text(words["items"])
        expect(body).not_to_contain_text(other["hello"])
        expect(body).not_to_contain_text(other["items"])
        expect(page.locator("h1")).to_have_text(subject)
        # The return's id is whole wherever the words say it (a link may wrap), even in a heading at 390 px.
        lines = page.evaluate(WHOLE, rid)
        assert lines and set(lines) == {1}, (name, lines)

        # The shop's frame: its logo (named by the shop's name) on its colour.
        banner = page.get_by_role("banner")
        logo = banner.get_by_role("img", name=SHOP_NAME)
        expect(logo).to_have_attribute("src", f"{pictures.origin}/logo.png")
        assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), f"{name}: the logo did not load"
        assert banner.evaluate("b => getComputedStyle(b.parentElement).backgroundColor") == COLOUR_RGB, name

        # The item: its picture beside its title and quantity (the picture says nothing the title does not: alt="").
        main = page.get_by_role("main")
        expect(main.get_by_text(TITLE, exact=True)).to_be_visible()
        expect(main).to_contain_text(words["quantity"])
        shown = main.locator(f'img[src="{picture}"]')
        expect(shown).to_have_count(1)
        expect(shown).to_be_visible()
        expect(shown).to_have_attribute("alt", "")
        assert (shown.get_attribute("width"), shown.get_attribute("height")) == ("64", "64"), name
        assert shown.evaluate("img => img.complete && img.naturalWidth > 0"), f"{name}: the picture did not load"

        # What comes next: the return's page, a link.
        expect(main.locator(f'a[href="{return_page}"]')).to_have_count(1)
        if kind == "completed":
            expect(main).to_contain_text(words["refund"])

        # Nothing internal: no limit, line id, SKU, staff name or staff note, in any part or the subject.
        found = {part: leaks(value) for part, value in (("subject", subject), ("text", text),
                                                         ("html", visible(html))) if leaks(value)}  # fmt: skip
        assert found == {}, (name, found)

        assert_accessible(page, f"e-mail {name}")
        assert sideways_overflow(page) == 0, f"e-mail {name} scrolls sideways"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
