"""Malformed payloads beyond tests/api/test_validation.py: wrong types, huge and negative numbers, unknown
currencies and fields, on every write; each is a 422 naming the field, and nothing changed behind it."""

from __future__ import annotations

import uuid

import pytest

from tests.api.api_helpers import inbound_tracking, line, order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")
HUGE = 10**30  # beyond any 64-bit column


def fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and all(x["reason"] and x["type"] for x in detail), detail
    return sorted(x["field"] for x in detail)


async def no_returns(client, tokens, number: str) -> None:
    r = await client.get("/api/v1/returns", params={"q": number}, headers=await tokens.staff("admin"))
    assert r.status_code == 200 and r.json()["total"] == 0, r.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "two"}, "body.lines.0.quantity"),
        ({"quantity": 1.5}, "body.lines.0.quantity"),
        ({"quantity": 0}, "body.lines.0.quantity"),
        ({"quantity": HUGE}, "body.lines.0.quantity"),
        ({"line_id": 7}, "body.lines.0.line_id"),
        ({"reason": None}, "body.lines.0.reason"),
        ({"resolution": ["refund"]}, "body.lines.0.resolution"),
    ],
)
async def test_return_lines_of_the_wrong_shape(client, tokens, shop, changes, field):
    order = await shop.order(quantity=2)
    headers = await tokens.shopper(order.number)
    r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [{**line(), **changes}]},
                          headers=headers)  # fmt: skip
    assert fields(r) == [field]
    await no_returns(client, tokens, order.number)


async def test_return_for_more_than_was_ordered_names_the_line_and_files_nothing(client, tokens, shop):
    order = await shop.order(quantity=2)
    headers = await tokens.shopper(order.number)
    r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line(quantity=3)]},
                          headers=headers)  # fmt: skip
    assert r.status_code == 422, r.text
    assert [x["line_id"] for x in r.json()["detail"]["lines"]] == ["L1"], r.json()
    await no_returns(client, tokens, order.number)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(currency="EURO"), "body.currency"),
        (lambda b: b.update(currency=978), "body.currency"),
        (lambda b: b["lines"][0].update(unit_price=25.5), "body.lines.0.unit_price"),
        (lambda b: b["lines"][0].update(unit_price=HUGE), "body.lines.0.unit_price"),
        (lambda b: b["lines"][0].update(quantity=-2), "body.lines.0.quantity"),
        (lambda b: b.update(placed_at="yesterday"), "body.placed_at"),
        (lambda b: b.update(discount=5), "body.discount"),
        (lambda b: b["shipping_address"].update(country=["PT"]), "body.shipping_address.country"),
    ],
)
async def test_orders_of_the_wrong_shape_are_not_stored(client, tokens, change, field):
    body = order_payload(number="M" + uuid.uuid4().hex[:9].upper())
    change(body)
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert fields(r) == [field]
    r = await client.post("/api/v1/portal/session", json={"order_number": body["number"], "email": body["email"]})
    assert r.status_code == 404, "a refused order was stored anyway"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_price": "cheap"}, "body.unit_price"),
        ({"unit_price": HUGE}, "body.unit_price"),
        ({"currency": "ZZZ"}, "body.currency"),
        ({"available": 2.5}, "body.available"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_inventory_of_the_wrong_shape_changes_no_stock(client, tokens, db, changes, field):
    sku = "MAL-" + uuid.uuid4().hex[:6].upper()
    headers = await tokens.staff("integration")
    good = {"title": "Tee", "unit_price": 2500, "currency": "EUR", "available": 4}
    assert (await client.put(f"/api/v1/inventory/{sku}", json=good, headers=headers)).status_code == 200
    r = await client.put(f"/api/v1/inventory/{sku}", json={**good, **changes, "available": changes.get("available", 9)},
                         headers=headers)  # fmt: skip
    assert fields(r) == [field]
    assert await db.available(sku) == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": -100, "order_reference": "o-1"}, "body.amount"),
        ({"amount": 0, "order_reference": "o-1"}, "body.amount"),
        ({"amount": "all", "order_reference": "o-1"}, "body.amount"),
        ({"amount": HUGE, "order_reference": "o-1"}, "body.amount"),
        ({"amount": 100, "order_reference": ""}, "body.order_reference"),
        ({"amount": 100, "order_reference": "o-1", "currency": "USD"}, "body.currency"),
    ],
)
async def test_redeeming_store_credit_with_a_bad_amount_spends_nothing(client, tokens, settings, db, body, field):
    from activities.store_credit import new_code
    from db.engine import get_sessionmaker
    from db.models import StoreCredit

    code = new_code()
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        s.add(StoreCredit(code=code, email="x@example.com", currency="EUR", balance=1500))
    r = await client.post(f"/api/v1/store-credit/{code}/redeem", json=body, headers=await tokens.staff("integration"))
    assert fields(r) == [field]
    assert await db.credit_balance(code) == 1500


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"accepted_quantity": -1}, "body.lines.0.accepted_quantity"),
        ({"accepted_quantity": [1]}, "body.lines.0.accepted_quantity"),
        ({"condition": "shiny"}, "body.lines.0.condition"),
        ({"restock": "maybe"}, "body.lines.0.restock"),
        ({"grade": "A"}, "body.lines.0.grade"),
    ],
)
async def test_inspections_of_the_wrong_shape_change_nothing(client, tokens, shop, returns, changes, field):
    ret, headers = await returns.create(await shop.order())
    await returns.deliver(ret, headers)
    inspection = {"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True, "note": "", **changes}
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json={"lines": [inspection]},
                          headers=await tokens.staff("warehouse"))  # fmt: skip
    assert fields(r) == [field]
    after = await returns.get(ret["id"], headers)
    assert after["status"] == "received" and after["lines"][0]["accepted_quantity"] is None, after
    assert inbound_tracking(after) == inbound_tracking(ret)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"approve": True, "amount": -1}, "body.amount"),
        ({"approve": True, "amount": HUGE}, "body.amount"),
        ({"approve": "yes please"}, "body.approve"),
        ({"approve": True, "amount": 10.5}, "body.amount"),
    ],
)
async def test_refund_reviews_of_the_wrong_shape(client, tokens, body, field):
    r = await client.post("/api/v1/returns/R-ANY/refund-review", json=body, headers=await tokens.staff("finance"))
    assert fields(r) == [field]
