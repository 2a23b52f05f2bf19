"""The shop's backend pushes inventory and orders; only an integration (or admin) token may; /healthz."""

from __future__ import annotations

import uuid

import pytest

from tests.api.api_helpers import order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_put_inventory_stores_the_item(client, tokens, db):
    sku = "SKU-" + uuid.uuid4().hex[:6].upper()
    body = {"title": "Linen shirt", "unit_price": 4500, "currency": "eur", "available": 7}
    r = await client.put(f"/api/v1/inventory/{sku}", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 200, r.text
    assert r.json() == {**body, "currency": "EUR", "sku": sku, "product": None, "options": {}, "image_url": None,
                        "final_sale": False}  # fmt: skip
    assert await db.available(sku) == 7
    body["available"] = 3
    r = await client.put(f"/api/v1/inventory/{sku}", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 200 and await db.available(sku) == 3


async def test_post_order_creates_then_updates_by_number(client, tokens):
    headers = await tokens.staff("integration")
    order = order_payload(email="first@example.com")
    r = await client.post("/api/v1/orders", json=order, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"number": order["number"], "created": True}
    r = await client.post("/api/v1/orders", json={**order, "email": "second@example.com"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"number": order["number"], "created": False}
    # the update took: the portal now knows the order by its new e-mail only
    r = await client.post(
        "/api/v1/portal/session", json={"order_number": order["number"], "email": "second@example.com"}
    )
    assert r.status_code == 200
    r = await client.post(
        "/api/v1/portal/session", json={"order_number": order["number"], "email": "first@example.com"}
    )
    assert r.status_code == 404


async def test_admin_may_push_orders_too(client, tokens):
    r = await client.post("/api/v1/orders", json=order_payload(), headers=await tokens.staff("admin"))
    assert r.status_code == 201, r.text


async def test_integration_endpoints_need_a_token(client):
    r = await client.post("/api/v1/orders", json=order_payload())
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in r.json()["detail"]
    body = {"title": "x", "unit_price": 1, "currency": "EUR", "available": 1}
    assert (await client.put("/api/v1/inventory/X", json=body)).status_code == 401
    r = await client.post("/api/v1/orders", json=order_payload(), headers={"Authorization": "Bearer rvs_made_up"})
    assert r.status_code == 401


async def test_warehouse_token_is_forbidden_to_push_orders(client, tokens):
    r = await client.post("/api/v1/orders", json=order_payload(), headers=await tokens.staff("warehouse"))
    assert r.status_code == 403
    assert "warehouse" in r.json()["detail"] and "integration" in r.json()["detail"]
    body = {"title": "x", "unit_price": 1, "currency": "EUR", "available": 1}
    r = await client.put("/api/v1/inventory/X", json=body, headers=await tokens.staff("finance"))
    assert r.status_code == 403


async def test_shopper_token_cannot_push_orders(client, tokens, shop):
    order = await shop.order()
    shopper = await tokens.shopper(order.number)
    r = await client.post("/api/v1/orders", json=order_payload(), headers=shopper)
    assert r.status_code == 401
    body = {"title": "x", "unit_price": 1, "currency": "EUR", "available": 1}
    assert (await client.put("/api/v1/inventory/X", json=body, headers=shopper)).status_code == 401


async def test_healthz_reports_both_peers(client):
    r = await client.get("/healthz")
    assert r.status_code == 200, r.text
    assert r.json() == {"postgres": "ok", "temporal": "ok"}
