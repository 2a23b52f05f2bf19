"""Nothing internal reaches a shopper (issue 19): returns walked through their states (held for approval and
approved, rejected, inspected by a named warehouse worker with a note, refunded after a finance review with a note,
exchanged) and every portal page state, in English and Portuguese, and every e-mail the shopper got, its plain text
and its HTML, read for the shop's limits and thresholds, line ids, SKUs, staff names and staff notes.

The rejection's reason is the one thing staff write that the shopper is meant to read (README: `/reject` takes "the
reason the shopper is told"); the admin's name beside it is not."""

from __future__ import annotations

import asyncio
import html as htmlmod
import re
import uuid
from datetime import timedelta

import httpx
import pytest
import stripe

from tests.api.api_helpers import inbound_tracking, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINE_ID, SKU, OTHER_SKU = "LN-Q7", "SKU-ZX81-M", "SKU-ZX81-L"
ADMIN, WAREHOUSE, FINANCE = "Fiona Admin", "Walter Warehouse", "Frida Finance"
INSPECTION_NOTE, REVIEW_NOTE = "seam torn, chewed by a dog", "goodwill: only half"
# The default policy's auto-approve limit (250.00) and finance's review threshold (500.00), as either language
# writes them, and the words for them.
INTERNAL = [LINE_ID, SKU, OTHER_SKU, "Fiona", "Walter", "Frida", INSPECTION_NOTE, REVIEW_NOTE, "chewed", "goodwill",
            "250.00", "250,00", "€250", "500.00", "500,00", "€500", "auto-approve", "aprovação automática",
            "threshold", "limite", "limit", "review_notes"]  # fmt: skip


def visible(page: str) -> str:
    """What a reader reads: tags (and so ids, data-* and URLs in attributes) dropped, entities decoded."""
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", page))).replace("\xa0", " ")


def leaks(text: str) -> list[str]:
    return [w for w in INTERNAL if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


class Walk:
    """One shopper's order and what they read of it: each portal page state and, at the end, every e-mail."""

    def __init__(self, client: httpx.AsyncClient, shop, tokens, returns, mailbox) -> None:
        self.client, self.shop, self.tokens, self.returns, self.mailbox = client, shop, tokens, returns, mailbox
        self.pages: dict[str, str] = {}

    async def order(self, unit_price: int, quantity: int = 1, locale: str | None = None):
        pi = stripe.PaymentIntent.create(amount=quantity * unit_price, currency="eur", payment_method="pm_card_visa",
                                         confirm=True)  # fmt: skip
        now = await self.shop.clock()
        body = {"number": "N" + uuid.uuid4().hex[:8].upper(), "email": "shopper@example.com", "currency": "EUR",
                "placed_at": (now - timedelta(days=7)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
                "payment": {"provider": "stripe", "reference": pi.id},
                "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
                "lines": [{"id": LINE_ID, "sku": SKU, "title": "Linen shirt", "quantity": quantity,
                           "unit_price": unit_price}]} | ({"locale": locale} if locale else {})  # fmt: skip
        r = await self.client.post("/api/v1/orders", json=body, headers=await self.tokens.staff("integration"))
        assert r.status_code == 201, r.text
        self.number = body["number"]
        self.headers = await self.tokens.shopper(self.number, "shopper@example.com")
        return body

    async def file(self, **line) -> dict:
        body = {
            "order_number": self.number,
            "lines": [{"line_id": LINE_ID, "quantity": 1, "reason": "too_small", "resolution": "refund"} | line],
        }
        r = await self.client.post("/api/v1/returns", json=body, headers=self.headers)  # fmt: skip
        assert r.status_code == 201, r.text
        self.rid = r.json()["id"]
        return r.json()

    async def read(self, state: str) -> None:
        """The return's page, its status region and the order page, in both languages, as the shopper sees them."""
        order = type("Order", (), {"number": self.number, "email": "shopper@example.com"})
        await portal_order_page(self.client, order)
        for lang in ("en", "pt"):
            for path in (f"/portal/returns/{self.rid}", f"/portal/returns/{self.rid}/status", "/portal/order"):
                r = await self.client.get(path, params={"lang": lang})
                assert r.status_code == 200, (path, r.text)
                self.pages[f"{state} {lang} {path}"] = visible(r.text)

    async def staff(self, role: str, name: str) -> dict[str, str]:
        return await self.tokens.staff(role, f"{name} {uuid.uuid4().hex[:4]}")

    async def emails(self, *kinds: str) -> dict[str, str]:
        for _ in range(400):
            if set(kinds) <= set(self.mailbox.kinds(self.rid)):
                break
            await asyncio.sleep(0.05)
        assert set(kinds) <= set(self.mailbox.kinds(self.rid)), self.mailbox.kinds(self.rid)
        read = {}
        for msg in self.mailbox.messages(self.rid):
            for part in msg.walk():
                if part.get_content_type() in ("text/plain", "text/html"):
                    text = part.get_payload(decode=True).decode()
                    kind = f"{msg['X-Reverso-Kind']} {part.get_content_type()}"
                    read[kind] = visible(text) if part.get_content_type() == "text/html" else text
                    read[kind + " subject"] = str(msg["Subject"])
        return read

    def check(self, read: dict[str, str]) -> None:
        found = {where: leaks(text) for where, text in {**self.pages, **read}.items() if leaks(text)}
        assert found == {}, found


async def test_a_held_inspected_and_reviewed_return_shows_the_shopper_nothing_internal(
    client, shop, tokens, returns, mailbox
):
    walk = Walk(client, shop, tokens, returns, mailbox)
    await walk.order(unit_price=15000, quantity=2, locale="pt-PT")  # 300.00: above the auto-approve limit
    ret = await walk.file(quantity=2, reason="defective")
    assert ret["status"] == "pending_approval"
    await walk.read("pending_approval")
    r = await client.post(f"/api/v1/returns/{walk.rid}/approve", headers=await walk.staff("admin", ADMIN))
    assert r.status_code == 200, r.text
    await walk.read("awaiting_shipment")
    assert (await returns.scan(inbound_tracking(r.json()), "in_transit")).status_code == 202
    await returns.wait_status(walk.rid, walk.headers, "in_transit")
    await walk.read("in_transit")
    await returns.deliver(r.json(), walk.headers)
    await walk.read("received")
    inspection = {"lines": [{"line_id": LINE_ID, "accepted_quantity": 1, "condition": "damaged", "restock": False,
                             "note": INSPECTION_NOTE}]}  # fmt: skip
    r = await client.post(f"/api/v1/returns/{walk.rid}/inspection", json=inspection,
                          headers=await walk.staff("warehouse", WAREHOUSE))  # fmt: skip
    assert r.status_code == 200, r.text
    await returns.wait_status(walk.rid, walk.headers, "pending_refund_review")
    await walk.read("pending_refund_review")
    review = {"approve": True, "amount": 12000, "note": REVIEW_NOTE}
    r = await client.post(f"/api/v1/returns/{walk.rid}/refund-review", json=review,
                          headers=await walk.staff("finance", FINANCE))  # fmt: skip
    assert r.status_code == 200, r.text
    await returns.wait_status(walk.rid, walk.headers, "completed")
    await walk.read("completed")
    read = await walk.emails("submitted", "label", "received", "completed")
    assert "120,00" in read["completed text/plain"]  # what was refunded is said, in the return's language
    assert all("Linen shirt" in page for where, page in walk.pages.items() if "/status" not in where), "no item shown"
    assert all("Linen shirt" in text for part, text in read.items() if not part.endswith("subject")), "no item mailed"
    walk.check(read)
    # The same words are there for staff: the check reads what it should.
    staff_view = await returns.get(walk.rid, await tokens.staff("admin"))
    assert {"Walter", "Frida", LINE_ID, INSPECTION_NOTE, REVIEW_NOTE} <= set(leaks(str(staff_view)))


async def test_a_rejected_return_shows_the_shopper_the_reason_but_not_who(client, shop, tokens, returns, mailbox):
    walk = Walk(client, shop, tokens, returns, mailbox)
    await walk.order(unit_price=30000)
    await walk.file()
    reject = {"reason": "The shirt was worn: we cannot take it back."}
    r = await client.post(f"/api/v1/returns/{walk.rid}/reject", json=reject, headers=await walk.staff("admin", ADMIN))
    assert r.status_code == 200, r.text
    await returns.wait_status(walk.rid, walk.headers, "rejected")
    await walk.read("rejected")
    read = await walk.emails("submitted", "rejected")
    assert "The shirt was worn" in read["rejected text/plain"] and "The shirt was worn" in read["rejected text/html"]
    walk.check(read)


async def test_an_exchanged_return_shows_the_shopper_no_sku(client, shop, tokens, returns, mailbox):
    await shop.inventory(OTHER_SKU, available=3, unit_price=2500)
    walk = Walk(client, shop, tokens, returns, mailbox)
    await walk.order(unit_price=2500)
    ret = await walk.file(resolution="exchange", exchange_sku=OTHER_SKU)
    await walk.read("awaiting_shipment")
    await returns.deliver(ret, walk.headers)
    inspection = {"lines": [{"line_id": LINE_ID, "accepted_quantity": 1, "condition": "new", "restock": True,
                             "note": INSPECTION_NOTE}]}  # fmt: skip
    r = await client.post(f"/api/v1/returns/{walk.rid}/inspection", json=inspection,
                          headers=await walk.staff("warehouse", WAREHOUSE))  # fmt: skip
    assert r.status_code == 200, r.text
    await returns.wait_status(walk.rid, walk.headers, "completed")
    await walk.read("completed")
    read = await walk.emails("label", "received", "completed")
    assert "Your exchange is on its way" in read["completed text/plain"]
    walk.check(read)
