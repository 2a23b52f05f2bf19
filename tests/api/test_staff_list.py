"""GET /api/v1/returns: the staff's paginated, filtered list."""

from __future__ import annotations

import uuid

import pytest

from tests.api.api_helpers import inbound_tracking

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def listed(client, headers, **params) -> dict:
    r = await client.get("/api/v1/returns", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def ids(page: dict) -> set[str]:
    return {x["id"] for x in page["items"]}


async def test_filters_by_status_and_finds_by_order_email_tracking_and_id(client, shop, returns, tokens):
    email = f"list-{uuid.uuid4().hex[:8]}@example.com"
    small, _ = await returns.create(await shop.order(email_addr=email))
    big_order = await shop.order(unit_price=30000, email_addr=email)
    big, _ = await returns.create(big_order)
    staff = await tokens.staff("warehouse")

    assert ids(await listed(client, staff, q=email)) == {small["id"], big["id"]}
    assert ids(await listed(client, staff, q=email.upper())) == {small["id"], big["id"]}
    assert ids(await listed(client, staff, q=big_order.number)) == {big["id"]}
    assert ids(await listed(client, staff, q=inbound_tracking(small))) == {small["id"]}
    assert ids(await listed(client, staff, q=small["id"])) == {small["id"]}
    assert ids(await listed(client, staff, q=small["id"].lower())) == {small["id"]}
    assert ids(await listed(client, staff, q=email, status="pending_approval")) == {big["id"]}
    assert ids(await listed(client, staff, q=email, status="awaiting_shipment")) == {small["id"]}
    assert ids(await listed(client, staff, q=email, status="completed")) == set()
    page = await listed(client, staff, status="pending_approval")
    assert big["id"] in ids(page) and small["id"] not in ids(page)
    assert {x["status"] for x in page["items"]} == {"pending_approval"}
    item = next(x for x in (await listed(client, staff, q=big["id"]))["items"])
    assert item["order_number"] == big_order.number and item["amounts"]["currency"] == "EUR"


async def test_pages_through_the_results(client, shop, returns, tokens):
    email = f"page-{uuid.uuid4().hex[:8]}@example.com"
    made = set()
    for _ in range(3):
        ret, _ = await returns.create(await shop.order(email_addr=email))
        made.add(ret["id"])
    staff = await tokens.staff("finance")
    first = await listed(client, staff, q=email, limit=2)
    assert (first["total"], first["limit"], first["offset"], first["next_offset"]) == (3, 2, 0, 2)
    assert len(first["items"]) == 2
    second = await listed(client, staff, q=email, limit=2, offset=first["next_offset"])
    assert (second["total"], second["offset"], second["next_offset"]) == (3, 2, None)
    assert len(second["items"]) == 1
    assert ids(first) | ids(second) == made


async def test_list_is_for_staff_only(client, shop, tokens):
    shopper = await tokens.shopper((await shop.order()).number)
    assert (await client.get("/api/v1/returns", headers=shopper)).status_code == 401
    assert (await client.get("/api/v1/returns")).status_code == 401
    assert (await client.get("/api/v1/returns", headers=await tokens.staff("admin"))).status_code == 200


async def test_unknown_status_filter_is_422_naming_it(client, tokens):
    r = await client.get("/api/v1/returns", params={"status": "lost"}, headers=await tokens.staff("admin"))
    assert r.status_code == 422
    assert [x["field"] for x in r.json()["detail"]] == ["query.status"]
