"""The shopper's language (issue 19): an order may name it (`locale`), the portal's language is kept with the return,
and every e-mail to the shopper, its plain text and its HTML, is written in it, with amounts and dates as that
language writes them. Read from the real SMTP sink the tests run."""

from __future__ import annotations

import asyncio
import html as htmlmod
import re
from email.header import decode_header, make_header
from email.message import Message
from types import SimpleNamespace

import pytest

from tests.api.api_helpers import console_sign_in, line, order_payload, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Written out here rather than asked of Babel, so the e-mail is checked against Portuguese, not against itself.
PT_DATE = re.compile(r"\b\d{1,2} de (janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro"
                     r"|dezembro) de \d{4}\b")  # fmt: skip
EN_WORDS = ("Hello", "your return", "Follow your return", "Refund", "Store credit", "tracking number")


async def mail_of(mailbox, rid: str, kind: str) -> Message:
    for _ in range(400):
        if kind in mailbox.kinds(rid):
            return mailbox.message(rid, kind)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} e-mail for {rid}; got {mailbox.kinds(rid)}")


def subject(msg: Message) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def parts(msg: Message) -> tuple[str, str]:
    """The plain-text part and the HTML part's words (tags dropped, entities and spaces as a reader sees them)."""
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    words = htmlmod.unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")
    return text.replace("\xa0", " "), re.sub(r"\s+", " ", words)  # white space as a browser folds it


async def test_an_order_locale_is_a_language_the_shop_has_words_for(client, tokens):
    integration = await tokens.staff("integration")
    for good in ("pt-PT", "pt_pt", "en"):
        r = await client.post("/api/v1/orders", json={**order_payload(), "locale": good}, headers=integration)
        assert r.status_code == 201, r.text
    for bad in ("fr", "pt-BR", "", "x" * 30, "pt\u0000"):
        r = await client.post("/api/v1/orders", json={**order_payload(), "locale": bad}, headers=integration)
        assert r.status_code == 422, (bad, r.text)
        assert "locale" in str(r.json()["detail"]), r.text


async def test_a_shopper_who_files_in_portuguese_gets_portuguese_emails(client, shop, returns, tokens, mailbox):
    order = await shop.order()  # the order names no language: the portal's is the one kept
    await portal_order_page(client, order)
    await client.get("/portal/order", params={"lang": "pt"})  # the shopper switches the portal to Portuguese
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1", "l0-reason": "too_small",
            "l0-resolution": "store_credit"}  # fmt: skip
    filed = await client.post("/portal/returns", data=form)
    assert filed.status_code == 303, filed.text
    rid = filed.headers["location"].rsplit("/", 1)[1]

    text, html = parts(await mail_of(mailbox, rid, "label"))
    for body in (text, html):
        assert f"A sua devolução {rid} foi aprovada" in body and "Olá," in body
        assert not any(w in body for w in EN_WORDS), body
    assert subject(await mail_of(mailbox, rid, "label")) == f"A sua etiqueta de devolução para {rid}"

    admin = await tokens.staff("admin")
    staff_view = await returns.get(rid, admin)
    assert staff_view["locale"] == "pt-PT"
    headers = await tokens.shopper(order.number, order.email)
    await returns.deliver(staff_view, headers)
    text, html = parts(await mail_of(mailbox, rid, "received"))
    assert "chegou ao nosso armazém" in text and "chegou ao nosso armazém" in html

    inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True,
                             "note": ""}]}  # fmt: skip
    r = await client.post(f"/api/v1/returns/{rid}/inspection", json=inspection, headers=await tokens.staff("warehouse"))
    assert r.status_code == 200, r.text
    msg = await mail_of(mailbox, rid, "completed")
    assert subject(msg) == f"A sua devolução {rid} está concluída"
    for body in parts(msg):
        assert "Crédito em loja: 25,00 €" in body  # Babel's Portuguese euros, not "25.00 EUR"
        assert PT_DATE.search(body), body  # the credit's last day, in words
        assert "EUR" not in body and not re.search(r"\d{4}-\d\d-\d\d", body)
        assert not any(w in body for w in EN_WORDS), body
    assert '<html lang="pt-PT">' in msg.get_payload()[1].get_payload(decode=True).decode()

    # Staff see the shopper's language on the return's page.
    client.cookies.clear()
    await console_sign_in(client, tokens, "admin")
    page = await client.get(f"/staff/returns/{rid}", params={"lang": "en"})
    assert 'id="shopper-language">Shopper' in page.text
    assert "Shopper's language: Português" in htmlmod.unescape(page.text)


async def test_the_orders_language_when_the_return_is_not_filed_from_the_portal(client, shop, tokens, returns,
                                                                                mailbox):  # fmt: skip
    integration = await tokens.staff("integration")
    for locale, words in (("pt-PT", "Olá,"), (None, "Hello,")):  # none: the shop's default, English here
        assert shop.clock is not None
        body = order_payload(delivered_at=await shop.clock()) | ({"locale": locale} if locale else {})
        r = await client.post("/api/v1/orders", json=body, headers=integration)
        assert r.status_code == 201, r.text
        order = SimpleNamespace(number=body["number"], email=body["email"])
        ret, _ = await returns.create(order, line())
        assert ret["locale"] == (locale or "")
        text, html = parts(await mail_of(mailbox, ret["id"], "label"))
        assert text.startswith(words) and words in html


async def test_a_return_filed_through_the_json_api_may_name_its_language(client, shop, tokens, mailbox):
    """A shop's own app files in the language its shopper reads, over the order's (English here)."""
    order = await shop.order()
    headers = await tokens.shopper(order.number, order.email)
    body = {"order_number": order.number, "lines": [line()]}
    r = await client.post("/api/v1/returns", json={**body, "locale": "fr"}, headers=headers)
    assert r.status_code == 422 and "locale" in str(r.json()["detail"]), r.text  # no French catalog
    r = await client.post("/api/v1/returns", json={**body, "locale": "pt_PT"}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["locale"] == "pt-PT"
    text, html = parts(await mail_of(mailbox, r.json()["id"], "label"))
    assert text.startswith("Olá,") and "Olá," in html
