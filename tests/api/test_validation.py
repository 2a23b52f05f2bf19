"""Bad input answers 422 with a `detail` that names each field and the reason."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import line, order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")


def fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert all(x["reason"] and x["type"] for x in detail)
    return [x["field"] for x in detail]


async def post_return(client, tokens, shop, body_lines: list[dict], **extra):
    order = await shop.order(quantity=2)
    headers = await tokens.shopper(order.number)
    return await client.post("/api/v1/returns", json={"order_number": order.number, "lines": body_lines, **extra}, headers=headers)  # fmt: skip


async def test_negative_quantity(client, tokens, shop):
    r = await post_return(client, tokens, shop, [line(quantity=-1)])
    assert fields(r) == ["body.lines.0.quantity"]


async def test_unknown_resolution(client, tokens, shop):
    r = await post_return(client, tokens, shop, [line(resolution="cash")])
    assert fields(r) == ["body.lines.0.resolution"]


async def test_exchange_without_sku(client, tokens, shop):
    r = await post_return(client, tokens, shop, [line(resolution="exchange")])
    assert r.status_code == 422 and "exchange_sku" in r.json()["detail"][0]["reason"]


async def test_unknown_fields_are_refused(client, tokens, shop):
    r = await post_return(client, tokens, shop, [{**line(), "colour": "red"}], coupon="X")
    assert sorted(fields(r)) == ["body.coupon", "body.lines.0.colour"]


async def test_unknown_currency_on_an_order(client, tokens):
    r = await client.post("/api/v1/orders", json=order_payload(currency="XYZ"), headers=await tokens.staff("integration"))  # fmt: skip
    assert fields(r) == ["body.currency"]
    assert "XYZ" in r.json()["detail"][0]["reason"]


async def test_order_with_negative_price_and_bad_email(client, tokens):
    body = order_payload(email="not-an-email")
    body["lines"][0]["unit_price"] = -5
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert sorted(fields(r)) == ["body.email", "body.lines.0.unit_price"]


async def test_inventory_with_negative_stock(client, tokens):
    body = {"title": "Tee", "unit_price": 100, "currency": "EUR", "available": -1}
    r = await client.put("/api/v1/inventory/TEE-S", json=body, headers=await tokens.staff("integration"))
    assert fields(r) == ["body.available"]


async def test_reject_needs_a_reason(client, tokens):
    r = await client.post("/api/v1/returns/R-ANY/reject", json={"reason": ""}, headers=await tokens.staff("admin"))
    assert fields(r) == ["body.reason"]


async def test_not_json_at_all(client, tokens, shop):
    order = await shop.order()
    headers = {**await tokens.shopper(order.number), "content-type": "application/json"}
    r = await client.post("/api/v1/returns", content=b"{not json", headers=headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"].startswith("body")
