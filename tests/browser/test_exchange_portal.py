"""A shopper exchanges for a different product in the portal: sees the price difference before submitting, picks
store credit for a cheaper item, and files it; no CSP violation on the way (the page guard checks)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_portal import Shop, sign_in
from tests.support.browser import needs_chromium
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def stock(shop: Shop, name: str, price: int) -> str:
    sku = f"{name}-{uuid.uuid4().hex[:5].upper()}"
    r = shop.c.put(f"/api/v1/inventory/{sku}", headers=shop.auth,
                   json={"title": name.title(), "unit_price": price, "currency": "EUR", "available": 3})  # fmt: skip
    assert r.status_code == 200, r.text
    return sku


def test_shopper_exchanges_for_another_product_and_sees_the_difference(stack: DevStack, shop: Shop, page: Any) -> None:
    hoodie, cap = stock(shop, "HOODIE", 4000), stock(shop, "CAP", 1800)
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    page.locator('select[name="l0-qty"]').select_option("1")
    page.locator('input[name="l0-resolution"][value="exchange"]').check()
    page.locator('select[name="l0-exchange"]').select_option(hoodie)
    page.get_by_role("button", name="Preview").click()
    sync_api.expect(page.locator("#preview")).to_contain_text("You pay the difference")
    sync_api.expect(page.locator("#preview .exchange-difference")).to_have_text("€15.00")

    page.locator('select[name="l0-exchange"]').select_option(cap)
    page.locator('input[name="l0-difference"][value="store_credit"]').check()
    page.get_by_role("button", name="Preview").click()
    sync_api.expect(page.locator("#preview")).to_contain_text("Difference back to you (store credit)")
    sync_api.expect(page.locator("#preview .exchange-difference")).to_have_text("€7.00")
    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url("**/portal/returns/R-*")
