"""POST /api/v1/returns with an Idempotency-Key: a retry after a lost answer files nothing new."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from tests.api.api_helpers import line, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _filed(client, tokens, order_number: str) -> list[str]:
    r = await client.get("/api/v1/returns", params={"q": order_number}, headers=await tokens.staff("admin"))
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["items"]]


async def _returnable(client, headers: dict[str, str]) -> int:
    r = await client.get("/api/v1/portal/order", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["lines"][0]["returnable_quantity"]


async def test_a_repeated_submit_answers_with_the_first_return_and_claims_once(client, shop, tokens):
    order = await shop.order(quantity=3)
    headers = await tokens.shopper(order.number, order.email)
    body = {"order_number": order.number, "lines": [line(quantity=1)]}
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/v1/returns", json=body, headers=keyed)
    again = await client.post("/api/v1/returns", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert await _filed(client, tokens, order.number) == [first.json()["id"]]
    assert await _returnable(client, headers) == 2


async def test_retries_racing_the_first_attempt_file_one_return(client, shop, tokens):
    order = await shop.order(quantity=1)
    headers = await tokens.shopper(order.number, order.email)
    keyed = {**headers, "Idempotency-Key": "checkout-retry-7"}
    body = {"order_number": order.number, "lines": [line()]}
    answers = await asyncio.gather(*(client.post("/api/v1/returns", json=body, headers=keyed) for _ in range(3)))
    assert [r.status_code for r in answers] == [201] * 3, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await _filed(client, tokens, order.number) == [answers[0].json()["id"]]


async def test_the_same_key_with_another_body_is_refused_and_files_nothing(client, shop, tokens):
    order = await shop.order(quantity=2)
    headers = {**await tokens.shopper(order.number, order.email), "Idempotency-Key": "k-1"}
    first = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line(quantity=1)]},
                              headers=headers)  # fmt: skip
    assert first.status_code == 201, first.text
    other = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line(quantity=2)]},
                              headers=headers)  # fmt: skip
    assert other.status_code == 422, other.text
    assert "Idempotency-Key" in other.json()["detail"]
    assert await _filed(client, tokens, order.number) == [first.json()["id"]]


async def test_the_same_key_on_two_orders_files_two_returns(client, shop, tokens, returns):
    mine, theirs = await shop.order(), await shop.order()
    ids = []
    for order in (mine, theirs):
        headers = {**await tokens.shopper(order.number, order.email), "Idempotency-Key": "same-key"}
        r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line()]},
                              headers=headers)  # fmt: skip
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    assert ids[0] != ids[1]
    theirs_headers = await tokens.shopper(theirs.number, theirs.email)
    assert (await client.get(f"/api/v1/returns/{ids[0]}", headers=theirs_headers)).status_code == 404


async def test_a_retry_after_the_return_finished_answers_as_the_first_time(client, shop, tokens, returns):
    order = await shop.order(quantity=1)
    headers = await tokens.shopper(order.number, order.email)
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"order_number": order.number, "lines": [line()]}
    first = await client.post("/api/v1/returns", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    rid = first.json()["id"]
    assert (await client.post(f"/api/v1/returns/{rid}/cancel", headers=headers)).status_code == 200
    await returns.wait_status(rid, headers, "cancelled")
    late = await client.post("/api/v1/returns", json=body, headers=keyed)
    assert late.status_code == 201, late.text
    assert late.json()["id"] == rid and late.json()["status"] == first.json()["status"]
    assert await _filed(client, tokens, order.number) == [rid]
    # The cancelled return gave its unit back; a new key files a new return for it.
    fresh = await client.post("/api/v1/returns", json=body, headers={**headers, "Idempotency-Key": "new"})
    assert fresh.status_code == 201 and fresh.json()["id"] != rid, fresh.text


@pytest.mark.parametrize("key", ["", "x" * 256, "two words", "naïve"])
async def test_a_malformed_key_is_refused_naming_the_header(client, shop, tokens, key):
    order = await shop.order()
    headers = {**await tokens.shopper(order.number, order.email), "Idempotency-Key": key}
    r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line()]},
                          headers={k: v.encode() if k == "Idempotency-Key" else v for k, v in headers.items()})  # fmt: skip
    assert r.status_code == 422, r.text
    assert [x["field"] for x in r.json()["detail"]] == ["header.Idempotency-Key"]
    assert await _filed(client, tokens, order.number) == []


async def test_the_portal_form_sent_twice_files_one_return(client, shop, tokens):
    order = await shop.order(quantity=2)
    page = await portal_order_page(client, order)
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert submission, "the return form carries its own key"
    form = {"csrf": client.cookies.get("portal_csrf"), "submission": submission[1], "l0-qty": "1",
            "l0-reason": "too_small", "l0-resolution": "refund"}  # fmt: skip
    first, again = await client.post("/portal/returns", data=form), await client.post("/portal/returns", data=form)
    assert first.status_code == again.status_code == 303, (first.text, again.text)
    assert again.headers["location"] == first.headers["location"]
    assert await _filed(client, tokens, order.number) == [first.headers["location"].rsplit("/", 1)[1]]
    # The same form sent back with other choices says so instead of filing a second return.
    other = await client.post("/portal/returns", data={**form, "l0-qty": "2"})
    assert other.status_code == 422 and "already sent with other choices" in other.text
    assert len(await _filed(client, tokens, order.number)) == 1
    fresh = re.search(r'name="submission" value="([^"]+)"', other.text)
    assert fresh and fresh[1] != submission[1], "the form shown again has a new key"
