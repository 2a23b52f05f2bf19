"""Issue 16, findings 2 and 4, on the time-skipping server with the real activities and the wrapped payment peer:
an exchange charge Stripe will not make takes the policy's fallback and the shopper is told; the money an exchange
gives back or falls back to passes finance review, and a denial pays nothing."""

from __future__ import annotations

import pytest
import stripe

from domain.models import RefundReview
from tests.support.timeline import messages
from tests.workflows.policy_versions import policy
from tests.workflows.test_exchanges import (
    deliver_and_inspect,
    exchange,
    intents_of,
    ledger,
    outbound,
    sku,
    start,
    state_where,
)
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_difference_under_stripes_minimum_falls_back_and_tells_the_shopper(
    ts_env, worker, shop, settings, db, mailbox
):
    dearer = sku("TEE")
    await shop.inventory(dearer, available=1, unit_price=2010)
    order = await shop.order(unit_price=2000)
    async with policy(settings, return_shipping_fee=0):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, dearer))
    assert answer.decision.lines[0].price_difference == 10  # 0.10 EUR: under the 0.50 Stripe charges at least
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    row = (await ledger(settings, handle.id))["charge"]
    assert row.status == "failed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert outbound(state) == [] and state.refund_total == 2000 and not state.attention
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [2000]
    assert any("amount_too_small" in m for m in messages(state))
    assert "exchange_fallback" in mailbox.kinds(handle.id)
    told = mailbox.body(handle.id, "exchange_fallback")  # the item by its name, never its SKU (issue 19)
    assert "- Tee: €20.00 comes back to you as a refund" in told and dearer not in told and "TEE-M" not in told
    assert await db.available(dearer) == 1


async def test_a_difference_given_back_under_stripes_minimum_is_still_refunded(ts_env, worker, shop, settings):
    cheaper = sku("TEE")
    await shop.inventory(cheaper, available=1, unit_price=1990)
    order = await shop.order(unit_price=2000)
    handle, answer = await start(ts_env, settings, order.number, exchange(1, cheaper))
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    assert intents_of(handle.id) == []
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [10]
    state = await handle.query(ReturnWorkflow.get_state)
    assert len(outbound(state)) == 1 and state.refund_total == 10


async def test_an_exchange_that_falls_back_to_a_large_refund_is_reviewed_and_a_denial_pays_nothing(
    ts_env, worker, shop, settings
):
    gone = sku("COAT")
    await shop.inventory(gone, available=0, unit_price=80000)
    order = await shop.order(unit_price=80000)
    async with policy(settings, auto_approve_limit=100000):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, gone))
    await deliver_and_inspect(handle, answer)
    state = await state_where(handle, lambda s: s.status == "pending_refund_review", "sent to finance")
    assert any("above the review threshold" in m for m in messages(state))
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=False, note="fraud check"))
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []
    assert (state.refund_total, state.store_credit_total, state.store_credit_code) == (0, 0, None)


async def test_a_cheaper_exchange_giving_back_a_large_refund_is_reviewed(ts_env, worker, shop, settings):
    cheaper = sku("WATCH")
    await shop.inventory(cheaper, available=1, unit_price=20000)
    order = await shop.order(unit_price=80000)
    async with policy(settings, auto_approve_limit=100000):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, cheaper))
    await deliver_and_inspect(handle, answer)
    await state_where(handle, lambda s: s.status == "pending_refund_review", "sent to finance")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True, amount=50000))
    assert await handle.result() == "completed"
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [50000]
    state = await handle.query(ReturnWorkflow.get_state)
    assert len(outbound(state)) == 1 and state.refund_total == 50000


async def test_a_finance_denial_grants_no_store_credit(ts_env, worker, shop, settings, db):
    order = await shop.order(quantity=2, unit_price=2500)
    handle, answer = await start(ts_env, settings, order.number, [
        {"line_id": "L1", "quantity": 2, "reason": "too_small", "resolution": "store_credit"}])  # fmt: skip
    await deliver_and_inspect(handle, answer, accepted=1)  # a refused unit sends it to review
    await state_where(handle, lambda s: s.status == "pending_refund_review", "sent to finance")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=False))
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.store_credit_total, state.store_credit_code, state.refund_total) == (0, None, 0)


async def test_an_instant_exchanges_difference_stripe_refuses_releases_the_hold_and_falls_back_not_to_the_queue(
    ts_env, worker, shop, settings, db, mailbox
):
    """Why no return ends in `charge_failed`: a difference Stripe will not charge is refused before the replacement
    leaves, the hold goes back, and the inspection takes the policy's fallback (README, "The Exceptions queue")."""
    dearer = sku("TEE")
    await shop.inventory(dearer, available=1, unit_price=2010)
    order = await shop.order(unit_price=2000)
    async with policy(settings, instant_exchange=True, return_shipping_fee=0):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, dearer))
    state = await state_where(handle, lambda s: any("card hold released after the charge failed" in m
                                                    for m in messages(s)), "released the hold")  # fmt: skip
    assert outbound(state) == [] and state.exchange_hold == 0 and not state.attention
    assert any("amount_too_small" in m for m in messages(state))
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.refund_total, state.attention, state.attention_code) == (2000, False, "")
    rows = await ledger(settings, handle.id)
    assert (rows["charge"].status, rows["hold"].status) == ("failed", "released")
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [2000]
    assert "exchange_fallback" in mailbox.kinds(handle.id)
