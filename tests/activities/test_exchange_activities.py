"""Exchange activities on PostgreSQL and localstripe: a retried charge or hold pays once, stock is held once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import stripe
from sqlalchemy.dialects.postgresql import insert
from temporalio.testing import ActivityEnvironment

from activities.inventory import Inventory
from activities.payments import Payments
from db.engine import get_sessionmaker
from db.models import ExchangePayment
from domain.exchanges import HoldSettlement, PaymentInput, QuoteInput, QuoteLine
from domain.messages import StockInput

pytestmark = pytest.mark.asyncio(loop_scope="session")


def rid() -> str:
    return "R-X" + uuid.uuid4().hex[:8].upper()


def intents_of(return_id: str) -> list[stripe.PaymentIntent]:
    found = stripe.PaymentIntent.list(limit=100).auto_paging_iter()
    return [pi for pi in found if pi.metadata and pi.metadata.to_dict().get("return_id") == return_id]


def payment(order, return_id: str, kind: str = "charge", amount: int = 1234) -> PaymentInput:
    return PaymentInput(key=f"{return_id}:exchange-{kind}:L1", return_id=return_id, kind=kind,
                        payment_reference=order.payment.reference, amount=amount, currency="EUR")  # fmt: skip


async def test_charge_run_twice_and_concurrently_pays_once(settings, shop):
    env, inp = ActivityEnvironment(), payment(await shop.order(), rid())
    results = await asyncio.gather(*(env.run(Payments(settings).charge, inp) for _ in range(3)))
    again = await env.run(Payments(settings).charge, inp)
    assert {x.provider_intent_id for x in [*results, again]} == {again.provider_intent_id}
    assert [(pi.amount, pi.status) for pi in intents_of(inp.return_id)] == [(1234, "succeeded")]


async def test_crash_after_stripe_charged_but_before_the_ledger_knew_is_not_charged_again(settings, shop):
    order = await shop.order()
    inp = payment(order, rid())
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await s.execute(insert(ExchangePayment).values(key=inp.key, return_id=inp.return_id, kind="charge",
                                                       payment_reference=inp.payment_reference, amount=inp.amount,
                                                       currency="EUR", status="pending"))  # fmt: skip
    paid = stripe.PaymentIntent.create(amount=inp.amount, currency="eur", payment_method="pm_card_visa", confirm=True,
                                       metadata={"reverso_key": inp.key, "return_id": inp.return_id})  # fmt: skip
    result = await ActivityEnvironment().run(Payments(settings).charge, inp)
    assert (result.provider_intent_id, result.status) == (paid.id, "succeeded")
    assert len(intents_of(inp.return_id)) == 1


async def test_hold_is_captured_or_released_once(settings, shop):
    env = ActivityEnvironment()
    captured, released = payment(await shop.order(), rid(), "hold", 2500), payment(await shop.order(), rid(), "hold")
    for inp in (captured, released):
        assert (await env.run(Payments(settings).charge, inp)).status == "held"
    for _ in range(2):
        assert (
            await env.run(Payments(settings).settle_hold, HoldSettlement(key=captured.key, capture=1000)) == "captured"
        )
        assert await env.run(Payments(settings).settle_hold, HoldSettlement(key=released.key, capture=0)) == "released"
    [held] = intents_of(captured.return_id)
    charge = stripe.PaymentIntent.retrieve(held.id).latest_charge
    assert (charge.captured, charge.amount - charge.amount_refunded) == (True, 1000)
    [let_go] = intents_of(released.return_id)
    assert stripe.PaymentIntent.retrieve(let_go.id).status == "canceled"


async def test_stock_is_held_once_shipped_once_and_the_rest_released(settings, shop, db):
    sku, r = f"VEST-{uuid.uuid4().hex[:5].upper()}", rid()
    await shop.inventory(sku, available=5, unit_price=3000)
    env, inventory = ActivityEnvironment(), Inventory(settings)
    quote = QuoteInput(return_id=r, currency="EUR", lines=[QuoteLine(line_id="L1", sku=sku, quantity=3)])
    for _ in range(2):
        [q] = await env.run(inventory.quote, quote)
        assert (q.unit_price, q.reserved, q.title) == (3000, True, sku.title())
    assert await db.available(sku) == 2
    shipped = StockInput(key=f"{r}:exchange:L1", return_id=r, sku=sku, quantity=2)
    for _ in range(2):
        await env.run(inventory.consume, shipped)
    assert await db.available(sku) == 3  # one of the three held went back
    assert await env.run(inventory.release_return, r) == 0  # nothing left held
    usd = QuoteInput(return_id=rid(), currency="USD", lines=[QuoteLine(line_id="L1", sku=sku, quantity=1)])
    [q] = await env.run(inventory.quote, usd)
    assert not q.reserved and await db.available(sku) == 3  # not sold in that currency: nothing held
