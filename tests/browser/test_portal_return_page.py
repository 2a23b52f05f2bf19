"""The shopper's return page in Chromium, on a phone (390 px) and a laptop (1280 px), in English and Portuguese: after
filing, what happens next (the progress at "send it"), the ship-by date, where to drop the parcel and where the money
goes (the card, from the payment peer); and nothing internal on a return staff members have handled.

A screenshot of each state is written under the test's tmp dir (its path is printed), not kept in the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_console_paths import Shop, bearer, token
from tests.support.browser import needs_chromium
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
RETURN_URL = re.compile(r".*/portal/returns/R-[A-Z0-9]+$")

pytestmark = needs_chromium

PT_MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
             "novembro", "dezembro")  # fmt: skip
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")  # fmt: skip
WORDS = {
    "en": {"find": "Find my order",
           "submit": "Request the return", "send": "Send it", "now": "now", "drop": "drop-off point",
           "money": ("€25.00", "back to Visa 4242", "5-10 days after we receive your parcel")},
    "pt": {"find": "Encontrar a encomenda",
           "submit": "Pedir a devolução", "send": "Enviar", "now": "agora", "drop": "ponto de entrega",
           "money": ("25,00\xa0€", "devolvido a Visa 4242", "5 a 10 dias depois de recebermos")},
}  # fmt: skip


def long_date(day: date, lang: str) -> str:
    if lang == "pt":
        return f"{day.day} de {PT_MONTHS[day.month - 1]} de {day.year}"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def keep(page: Any, tmp_path: Path, name: str) -> None:
    """A screenshot of the state as a test artifact (outside the repository)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def open_order(page: Any, stack: DevStack, number: str, addr: str, lang: str) -> None:
    page.goto(f"{stack.api_url}/portal?lang={lang}")
    page.locator("#order_number").fill(number)
    page.locator("#email").fill(addr)
    page.get_by_role("button", name=WORDS[lang]["find"]).click()
    page.wait_for_url("**/portal/order")


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_after_filing_the_page_says_send_it_by_when_where_and_where_the_money_goes(
    stack: DevStack, shop: Shop, page: Any, lang: str, width: int, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    words = WORDS[lang]
    number, addr, _ = shop.paid_order(quantity=1)
    open_order(page, stack, number, addr, lang)
    # The form's three steps: the item, its reason, what the shopper wants; the amounts follow each choice.
    page.locator('select[name="l0-qty"]').select_option("1")
    page.locator('select[name="l0-reason"]').select_option("too_big")
    page.locator('input[name="l0-resolution"][value="refund"]').check()
    expect(page.locator("#preview-refund")).to_contain_text("25")
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url(RETURN_URL)

    current = page.locator('#progress li[aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current.locator(".step-name")).to_have_text(words["send"])
    expect(current.locator(".step-state")).to_have_text(words["now"])  # said in words, not by colour alone
    expect(page.locator("#status-live")).to_have_attribute("aria-live", "polite")  # announced, kept in place

    ship_by = page.locator("#ship-by")
    expect(ship_by).to_be_visible(timeout=30_000)  # the label and its deadline come with the status poll
    due = date.fromisoformat(str(ship_by.get_attribute("datetime")))
    today = datetime.now(UTC).date()
    assert today + timedelta(days=13) <= due <= today + timedelta(days=15), due  # the policy's 14 days
    expect(ship_by).to_have_text(long_date(due, lang))
    expect(page.locator("#drop-off")).to_contain_text(words["drop"])
    expect(page.locator("#drop-off")).to_contain_text(long_date(due, lang))
    expect(page.locator("#label-link")).to_be_visible()
    for text in words["money"]:
        expect(page.locator("#money-refund")).to_contain_text(text)
    expect(page.locator("#main")).not_to_contain_text("EUR")
    keep(page, tmp_path, f"return-send-it-{lang}-{width}")


def test_a_shoppers_return_page_has_no_limit_line_id_sku_staff_name_or_note(
    stack: DevStack, shop: Shop, page: Any, tmp_path: Path
) -> None:
    number, addr, _ = shop.paid_order(quantity=2, unit_price=15000)  # 300.00: above the 250.00 auto-approve limit
    rid = shop.file_return(number, shop.shopper(number, addr), quantity=2)
    assert shop.get(rid)["status"] == "pending_approval"
    r = shop.c.post(f"/api/v1/returns/{rid}/approve", headers=bearer(token(stack, "admin", "Fiona Admin")))
    assert r.status_code == 200, r.text
    shop.deliver(rid)
    inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "damaged", "restock": False,
                             "note": "seam torn, chewed by a dog"}]}  # fmt: skip
    r = shop.c.post(f"/api/v1/returns/{rid}/inspection", json=inspection,
                    headers=bearer(token(stack, "warehouse", "Walter Warehouse")))  # fmt: skip
    assert r.status_code == 200, r.text
    shop.wait_status(rid, "pending_refund_review")
    r = shop.c.post(f"/api/v1/returns/{rid}/refund-review", json={"approve": True, "amount": 12000,
                                                                   "note": "goodwill: only half"},
                    headers=bearer(token(stack, "finance", "Frida Finance")))  # fmt: skip
    assert r.status_code == 200, r.text
    shop.wait_status(rid, "completed")

    open_order(page, stack, number, addr, "en")
    internal = re.compile(r"(?<![\w-])(L1|TEE-M|Fiona|Walter|Frida|seam torn|goodwill|250[.,]00|€250|500[.,]00|€500"
                          r"|auto-approve|aprovação automática|threshold|limite)(?![\w-])")  # fmt: skip
    for lang in ("en", "pt"):
        page.goto(f"{stack.api_url}/portal/returns/{rid}?lang={lang}")
        text = page.locator("body").inner_text()
        assert internal.findall(text) == [], (lang, internal.findall(text))
        expect(page.locator('#progress li[aria-current="step"]')).to_have_attribute("data-step", "money")
        expect(page.locator("#explain")).to_be_visible()
        keep(page, tmp_path, f"return-completed-partial-{lang}")
    expect(page.locator("#money-refund")).to_contain_text("120,00\xa0€")
    expect(page.locator("#explain")).to_contain_text("aceitámos 1 dos 2")
