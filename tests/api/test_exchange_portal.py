"""Exchanges in the portal and the API: another product to pick, the price difference before submitting, the
shopper's choice of refund or store credit for a cheaper item, and an unknown product refused by name."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.api.api_helpers import console_sign_in, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


def exchange_line(sku: str, difference_to: str = "refund") -> dict:
    return {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange", "exchange_sku": sku,
            "difference_to": difference_to}  # fmt: skip


async def test_portal_offers_other_products_and_previews_the_difference(client, shop):
    hoodie, cap = f"HOODIE-{uuid.uuid4().hex[:5].upper()}", f"CAP-{uuid.uuid4().hex[:5].upper()}"
    await shop.inventory(hoodie, available=2, unit_price=4000)
    await shop.inventory(cap, available=1, unit_price=1800)
    order = await shop.order(unit_price=2500)
    page = await portal_order_page(client, order)
    assert re.search(rf'<option value="{hoodie}"[^>]*>[^<]*€40\.00', page.text), "other products are offered"
    assert 'name="l0-difference" value="store_credit"' in page.text
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1", "l0-reason": "too_small",
            "l0-resolution": "exchange", "l0-exchange": hoodie}  # fmt: skip
    preview = await client.post("/portal/preview", data=form)
    assert preview.status_code == 200, preview.text
    assert re.search(r'class="amount exchange-difference">€15\.00', preview.text), preview.text
    cheaper = await client.post("/portal/preview", data={**form, "l0-exchange": cap, "l0-difference": "store_credit"})
    assert re.search(r"store credit\)</th><td class=\"amount exchange-difference\">€7\.00", cheaper.text)
    done = await client.post("/portal/returns", data={**form, "l0-exchange": cap, "l0-difference": "store_credit"})
    assert done.status_code == 303, done.text
    assert re.fullmatch(r"/portal/returns/R-\w+", done.headers["location"])


async def test_estimate_and_submit_agree_on_the_difference(client, shop, returns, tokens):
    hoodie = f"HOODIE-{uuid.uuid4().hex[:5].upper()}"
    await shop.inventory(hoodie, available=1, unit_price=4321)
    order = await shop.order(unit_price=2500)
    headers = await tokens.shopper(order.number, order.email)
    est = await client.post("/api/v1/portal/estimate", json={"lines": [exchange_line(hoodie)]}, headers=headers)
    assert est.status_code == 200, est.text
    assert est.json()["lines"][0]["price_difference"] == 1821
    created, _ = await returns.create(order, exchange_line(hoodie))
    assert created["lines"][0]["price_difference"] == 1821
    assert created["lines"][0]["exchange_unit_price"] == 4321
    # finance and the warehouse see the same difference in the console
    await console_sign_in(client, tokens, "finance")
    console = await client.get(f"/staff/returns/{created['id']}")
    assert f"for {hoodie} at 43.21 EUR each: difference 18.21 EUR" in console.text


async def test_unknown_exchange_product_is_refused_naming_the_field(client, shop, returns):
    order = await shop.order()
    created, _ = await returns.create(order, exchange_line("NOPE-" + uuid.uuid4().hex[:5]), expect=422)
    assert "lines[0].exchange_sku" in str(created["detail"])
