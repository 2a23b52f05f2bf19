"""The shop's checkout reads and redeems store credit: exactly once per order, never below zero."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.testing import ActivityEnvironment

from activities.store_credit import StoreCredits
from domain.messages import CreditInput

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def grant(settings, amount: int) -> str:
    rid = "R-SC" + uuid.uuid4().hex[:8].upper()
    inp = CreditInput(key=f"{rid}:credit", return_id=rid, email="a@example.com", currency="EUR", amount=amount)
    return (await ActivityEnvironment().run(StoreCredits(settings).grant, inp)).code


async def test_balance_and_redeem_once_per_order_reference(client, tokens, settings):
    code = await grant(settings, 1000)
    shop = await tokens.staff("integration")
    got = await client.get(f"/api/v1/store-credit/{code.lower()}", headers=shop)
    assert got.status_code == 200 and got.json()["balance"] == 1000 and got.json()["currency"] == "EUR"
    body = {"amount": 400, "order_reference": "CHK-1"}
    first = await client.post(f"/api/v1/store-credit/{code}/redeem", headers=shop, json=body)
    again = await client.post(f"/api/v1/store-credit/{code}/redeem", headers=shop, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json()["balance"] == again.json()["balance"] == 600
    other = await client.post(f"/api/v1/store-credit/{code}/redeem", headers=shop,
                              json={"amount": 500, "order_reference": "CHK-1"})  # fmt: skip
    assert other.status_code == 409 and "order_reference" in other.json()["detail"]
    too_much = await client.post(f"/api/v1/store-credit/{code}/redeem", headers=shop,
                                 json={"amount": 601, "order_reference": "CHK-2"})  # fmt: skip
    assert too_much.status_code == 409 and too_much.json()["detail"].startswith("amount:")
    assert (await client.get(f"/api/v1/store-credit/{code}", headers=shop)).json()["balance"] == 600


async def test_concurrent_redeems_never_go_below_zero(client, tokens, settings):
    code = await grant(settings, 1000)
    shop = await tokens.staff("integration")
    answers = await asyncio.gather(*(
        client.post(f"/api/v1/store-credit/{code}/redeem", headers=shop,
                    json={"amount": 300, "order_reference": f"CHK-{i}"})
        for i in range(8)
    ))  # fmt: skip
    assert sorted(a.status_code for a in answers) == [200] * 3 + [409] * 5
    assert (await client.get(f"/api/v1/store-credit/{code}", headers=shop)).json()["balance"] == 100


async def test_unknown_code_and_roles(client, tokens, settings):
    code = await grant(settings, 100)
    shop = await tokens.staff("integration")
    assert (await client.get("/api/v1/store-credit/SC-NOPE-NOPE-NOPE", headers=shop)).status_code == 404
    assert (await client.get(f"/api/v1/store-credit/{code}")).status_code == 401
    assert (
        await client.get(f"/api/v1/store-credit/{code}", headers=await tokens.staff("warehouse"))
    ).status_code == 403
    bad = await client.post(
        f"/api/v1/store-credit/{code}/redeem", headers=shop, json={"amount": -5, "order_reference": "X"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.amount"
