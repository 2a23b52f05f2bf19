"""Exchanges in the portal and the API: another product to pick, the price difference before submitting, the
shopper's choice of refund or store credit for a cheaper item, and an unknown product refused by name."""

from __future__ import annotations

import re
import uuid

import pytest

from db.engine import get_sessionmaker
from db.queries import upsert_inventory
from tests.api.api_helpers import console_sign_in, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


def exchange_line(sku: str, difference_to: str = "refund") -> dict:
    return {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange", "exchange_sku": sku,
            "difference_to": difference_to}  # fmt: skip


async def test_portal_offers_the_products_variants_and_previews_the_difference(client, shop, settings):
    product = f"TEE{uuid.uuid4().hex[:5].upper()}"
    bigger, smaller = f"{product}-L", f"{product}-S"
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_inventory(s, "TEE-M", "Tee M", 2500, "EUR", 5, product=product, options={"size": "M"})
        await upsert_inventory(s, bigger, "Tee L", 4000, "EUR", 2, product=product, options={"size": "L"})
        await upsert_inventory(s, smaller, "Tee S", 1800, "EUR", 1, product=product, options={"size": "S"})
    order = await shop.order(quantity=2, unit_price=2500)
    await portal_order_page(client, order)
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1", "l0-reason": "too_small",
            "l0-resolution": "exchange", "l0-exchange": bigger}  # fmt: skip
    steps = await client.post("/portal/order/steps", data=form)
    assert steps.status_code == 200, steps.text
    assert re.search(rf'<option value="{bigger}"[^>]*>L — €40\.00', steps.text), "the product's variants by size"
    assert 'value="TEE-M"' not in steps.text, "never the variant bought"
    assert 'name="l0-difference" value="store_credit"' in steps.text
    assert re.search(r'class="amount exchange-difference">€15\.00', steps.text), steps.text
    assert 'name="accept_charge" value="1500"' in steps.text and 'name="consent"' in steps.text
    refused = await client.post("/portal/returns", data=form)  # a dearer exchange needs the shopper's consent
    assert refused.status_code == 422 and 'id="consent-error"' in refused.text
    assert 'aria-describedby="consent-error"' in refused.text
    cheaper = {**form, "l0-exchange": smaller, "l0-difference": "store_credit"}
    preview = await client.post("/portal/order/steps", data=cheaper)
    assert re.search(r"store credit\)</th><td class=\"amount exchange-difference\">€7\.00", preview.text)
    done = await client.post("/portal/returns", data=cheaper)
    assert done.status_code == 303, done.text
    assert re.fullmatch(r"/portal/returns/R-\w+", done.headers["location"])
    dearer = await client.post("/portal/returns", data={**form, "consent": "yes", "accept_charge": "1500"})
    assert dearer.status_code == 303, dearer.text


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
