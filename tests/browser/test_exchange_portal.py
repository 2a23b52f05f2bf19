"""A shopper exchanges for another size of the product in the portal: sees the price difference as they choose, picks
store credit for a cheaper one, and files it; no CSP violation on the way (the page guard checks)."""

from __future__ import annotations

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


def variants(shop: Shop) -> None:
    """The tee the orders hold (M) and its other sizes, as variants of one product."""
    for sku, size, price in (("TEE-M", "M", 2500), ("TEE-L", "L", 4000), ("TEE-S", "S", 1800)):
        r = shop.c.put(f"/api/v1/inventory/{sku}", headers=shop.auth,
                       json={"title": f"Tee, {size}", "unit_price": price, "currency": "EUR", "available": 3,
                             "product": "tee", "options": {"size": size}})  # fmt: skip
        assert r.status_code == 200, r.text


def test_shopper_exchanges_for_another_size_and_sees_the_difference(stack: DevStack, shop: Shop, page: Any) -> None:
    variants(shop)
    number, addr = shop.paid_order()
    sign_in(page, stack, number, addr)
    page.locator('select[name="l0-qty"]').select_option("1")
    page.locator('select[name="l0-reason"]').select_option("too_small")
    page.locator('input[name="l0-resolution"][value="exchange"]').check()
    page.locator('select[name="l0-exchange"]').select_option("TEE-L")
    sync_api.expect(page.locator("#preview")).to_contain_text("You pay the difference")
    sync_api.expect(page.locator("#preview .exchange-difference")).to_have_text("€15.00")
    sync_api.expect(page.locator("#charge-text")).to_contain_text("€15.00")

    page.locator('select[name="l0-exchange"]').select_option("TEE-S")
    page.locator('input[name="l0-difference"][value="store_credit"]').check()
    sync_api.expect(page.locator("#preview")).to_contain_text("Difference back to you (store credit)")
    sync_api.expect(page.locator("#preview .exchange-difference")).to_have_text("€7.00")
    sync_api.expect(page.locator("#consent-box")).to_have_count(0)  # nothing to pay, nothing to agree to
    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url("**/portal/returns/R-*")
