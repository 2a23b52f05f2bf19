"""The shopper's return page over HTTP: what happens next, by when, where the money goes, why an amount is what it
is, in the page's language; and nothing internal (policy limits, line ids, SKUs, staff names or notes)."""

from __future__ import annotations

import re
import socket
from datetime import datetime, timedelta

import httpx
import pytest

from api import payment_card
from api.main import create_app
from tests.api.api_helpers import inbound_tracking, line, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Written out here rather than asked of Babel, so the test checks the page against Portuguese, not against itself.
PT_MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
             "novembro", "dezembro")  # fmt: skip
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")  # fmt: skip
EUR_AMOUNT = re.compile(r"\d[.,]\d\d\s*EUR")


def pt_date(at: datetime) -> str:
    return f"{at.day} de {PT_MONTHS[at.month - 1]} de {at.year}"


def en_date(at: datetime) -> str:
    return f"{at.day} {EN_MONTHS[at.month - 1]} {at.year}"


def visible(html: str) -> str:
    """The page's text without tags and attributes (ids, data-* and URLs are not read by the shopper)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def return_page(client: httpx.AsyncClient, order, rid: str, lang: str = "en") -> str:
    await portal_order_page(client, order)
    r = await client.get(f"/portal/returns/{rid}", params={"lang": lang})
    assert r.status_code == 200, r.text
    return r.text


def current_step(html: str) -> str:
    m = re.search(r'<li class="step current" data-step="(\w+)" aria-current="step">', html)
    return m.group(1) if m else ""


async def test_a_portuguese_portal_page_writes_euros_and_dates_the_portuguese_way(client, shop, returns):
    order = await shop.order()
    await portal_order_page(client, order)
    page = await client.get("/portal/order", params={"lang": "pt"})
    assert page.status_code == 200
    assert "25,00\xa0€" in page.text  # the unit price
    assert f"Entregue a {pt_date(order.delivered_at)}" in page.text
    assert not EUR_AMOUNT.search(page.text), EUR_AMOUNT.findall(page.text)
    english = await client.get("/portal/order", params={"lang": "en"})
    assert "€25.00" in english.text and f"Delivered on {en_date(order.delivered_at)}" in english.text


async def test_after_filing_the_page_says_send_it_by_when_where_and_where_the_money_goes(client, shop, returns):
    order = await shop.order()
    ret, headers = await returns.create(order, line(reason="too_big"))
    started = next(datetime.fromisoformat(t["at"]) for t in ret["timeline"] if t["status"] == "awaiting_shipment")
    due = started + timedelta(days=14)  # the policy's shipment_expiry_days, as the e-mail says
    for lang, date_of, words in (
        ("en", en_date, ("Ship by", "drop the parcel off by", "Visa 4242", "5-10 days after we receive your parcel")),
        ("pt", pt_date, ("Enviar até", "entregue a encomenda até", "Visa 4242", "5 a 10 dias depois de recebermos")),
    ):
        html = await return_page(client, order, ret["id"], lang)
        text = visible(html)
        assert current_step(html) == "send", lang
        assert date_of(due) in text and f'datetime="{due.date().isoformat()}"' in html, lang
        for w in words:
            assert w in text, (lang, w)
        assert 'id="drop-off"' in html and 'id="label-link"' in html
        assert not EUR_AMOUNT.search(html), (lang, EUR_AMOUNT.findall(html))
    assert "€25.00" in visible(await return_page(client, order, ret["id"], "en"))
    assert "25,00\xa0€" in html  # the last page read: Portuguese


async def test_a_shoppers_page_shows_no_limit_line_id_sku_staff_name_or_note(client, shop, returns, tokens):
    order = await shop.order(quantity=2, unit_price=15000)  # 300.00 EUR: above the 250.00 auto-approve limit
    ret, headers = await returns.create(order, line(quantity=2, reason="defective"))
    assert ret["status"] == "pending_approval"
    html = await return_page(client, order, ret["id"])
    assert current_step(html) == "requested" and "The shop is looking at your request" in html
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=await tokens.staff("admin", "Fiona Admin"))
    assert r.status_code == 200, r.text
    await returns.deliver(r.json(), headers)
    inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "damaged", "restock": False,
                             "note": "seam torn, chewed by a dog"}]}  # fmt: skip
    warehouse = await tokens.staff("warehouse", "Walter Warehouse")
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection, headers=warehouse)
    assert r.status_code == 200, r.text
    await returns.wait_status(ret["id"], headers, "pending_refund_review")
    html = await return_page(client, order, ret["id"])
    assert current_step(html) == "checked" and "the shop is confirming" in html
    review = {"approve": True, "amount": 12000, "note": "goodwill: only half"}
    finance = await tokens.staff("finance", "Frida Finance")
    r = await client.post(f"/api/v1/returns/{ret['id']}/refund-review", json=review, headers=finance)
    assert r.status_code == 200, r.text
    await returns.wait_status(ret["id"], headers, "completed")

    for lang in ("en", "pt"):
        html = await return_page(client, order, ret["id"], lang)
        text = visible(html)
        internal = ["L1", "TEE-M", "Fiona", "Walter", "Frida", "seam torn", "goodwill", "250.00", "250,00", "€250",
                    "auto-approve", "aprovação automática", "threshold", "limite", "500.00", "500,00", "€500"]  # fmt: skip
        assert [w for w in internal if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)] == [], lang
        assert 'aria-current="step"' in html and 'data-step="money"' in html
    en = visible(await return_page(client, order, ret["id"], "en"))
    assert "we accepted 1 of the 2 you sent back" in en and "Condition found: damaged" in en
    assert "the shop set your refund at €120.00" in en
    assert "€120.00 — sent back to Visa 4242" in en


async def test_a_rejected_return_shows_no_refund_and_says_why(client, shop, returns, tokens):
    order = await shop.order(unit_price=32000)
    ret, _ = await returns.create(order)
    r = await client.post(f"/api/v1/returns/{ret['id']}/reject", json={"reason": "worn item"},
                          headers=await tokens.staff("admin", "Fiona Admin"))  # fmt: skip
    assert r.status_code == 200, r.text
    html = await return_page(client, order, ret["id"])
    text = visible(html)
    assert "We could not accept this return" in text and "worn item" in text and "keep the items" in text
    assert "320" not in text and 'id="money"' not in html and 'id="progress"' not in html


async def test_a_parcel_the_carrier_has_a_problem_with_does_not_say_in_transit(client, shop, returns):
    order = await shop.order()
    ret, headers = await returns.create(order)
    tracking = inbound_tracking(ret)
    assert (await returns.scan(tracking, "in_transit")).status_code == 202
    await returns.wait_status(ret["id"], headers, "in_transit")
    assert current_step(await return_page(client, order, ret["id"])) == "on_way"
    assert (await returns.scan(tracking, "exception")).status_code == 202
    for _ in range(200):  # the read model follows the workflow
        html = (await client.get(f"/portal/returns/{ret['id']}/status")).text
        if "a problem with the parcel" in html:
            break
    assert '<span id="status-text" data-status="in_transit">a problem with the parcel</span>' in html
    assert "The carrier told us about a problem with your parcel" in html


async def test_the_card_is_left_out_when_the_payment_peer_does_not_answer(client, shop, returns, settings):
    """The page never waits long on Stripe nor fails for it: it names the original payment method instead."""
    order = await shop.order()
    ret, _ = await returns.create(order)
    with socket.socket() as silent:  # accepts connections and never answers: a peer that hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app = create_app(settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{silent.getsockname()[1]}"}))
        app.state.temporal = client._transport.app.state.temporal  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as other:
            html = await return_page(other, order, ret["id"])
    assert "back to your original payment method" in html and "Visa" not in html
    payment_card.forget()
    html = await return_page(client, order, ret["id"])  # the peer answers again: the card is named
    assert "back to Visa 4242" in html


async def test_an_order_form_error_is_tied_to_its_fields(client, shop):
    order = await shop.order()
    await portal_order_page(client, order)
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "5", "l0-reason": "too_small",
            "l0-resolution": "refund"}  # fmt: skip
    page = await client.post("/portal/returns", data=form)
    assert page.status_code == 422
    # The line's refusal is said beside its quantity, and the quantity points to it (a screen reader reads it there).
    assert re.search(r'<small class="error field-error" id="l0-line-error">[^<]*only 1', page.text), page.text
    assert re.search(r'<select id="l0-qty" name="l0-qty" aria-describedby="l0-line-error" aria-invalid="true">',
                     page.text)  # fmt: skip
