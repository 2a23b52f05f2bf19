"""Issue 16, findings 3, 5 and 7, on the time-skipping server with the real activities and the wrapped payment
peer: a refund Stripe refuses leaves the return open for finance (and their `resolve` actions settle it), one submit
per return, and the order's original shipping refunded once when the policy says so."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from db.engine import get_sessionmaker
from db.models import RefundRow
from db.queries import upsert_order
from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import Order, ResolveRequest, ReturnLineRequest
from tests.support.timeline import said
from tests.workflows.policy_versions import policy
from tests.workflows.test_exchanges import deliver_and_inspect, start, state_where
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
)
from workflows.contracts import ALREADY_SUBMITTED
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

FINANCE = ["retry", "store_credit", "refund_outside"]


async def paid_order(ts_env, settings, prices: dict[str, tuple[int, int]], shipping: int | None = None) -> Order:
    """An order of lines (id -> quantity, unit price), paid in full with its shipping at the peer."""
    total = sum(q * p for q, p in prices.values()) + (shipping or 0)
    pi = stripe.PaymentIntent.create(amount=total, currency="eur", payment_method="pm_card_visa", confirm=True)
    now = await ts_env.get_current_time()
    order = Order.model_validate({
        "number": "T" + uuid.uuid4().hex[:8].upper(), "email": "shopper@example.com", "currency": "EUR",
        "placed_at": now - timedelta(days=7), "delivered_at": now - timedelta(days=5),
        "payment": {"provider": "stripe", "reference": pi.id}, "shipping_amount": shipping,
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
        "lines": [{"id": line, "sku": f"SKU-{line}", "title": line, "quantity": q, "unit_price": p}
                  for line, (q, p) in prices.items()],
    })  # fmt: skip
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_order(s, order)
    return order


def line(line_id: str, quantity: int = 1, resolution: str = "refund") -> dict:
    return {"line_id": line_id, "quantity": quantity, "reason": "too_small", "resolution": resolution}


def refunds(order: Order) -> list[int]:
    return sorted(r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data)


async def refused_return(ts_env, settings, shop):
    """L1 refunded, L2 paid as store credit, L3's refund refused: the shop refunded most of the order by hand."""
    order = await paid_order(ts_env, settings, {"L1": (1, 1000), "L2": (1, 1500), "L3": (1, 5000)})
    stripe.Refund.create(payment_intent=order.payment.reference, amount=5000)  # in the dashboard, outside Reverso
    handle, answer = await start(ts_env, settings, order.number,
                                 [line("L1"), line("L2", resolution="store_credit"), line("L3")])  # fmt: skip
    await deliver_and_inspect(handle, answer)
    state = await state_where(handle, lambda s: s.attention, "asked for a person")
    return handle, order, state


async def test_a_refused_refund_keeps_what_was_paid_and_waits_for_finance(ts_env, worker, shop, settings, db):
    handle, order, state = await refused_return(ts_env, settings, shop)
    assert state.status == "received"  # as far as it got: neither completed nor failed
    assert (state.attention_code, state.resolutions) == ("refund_refused", FINANCE)
    assert "amount_too_large" in state.attention_reason and "line L3" in state.attention_reason
    assert "4242" not in state.attention_reason and "pm_" not in state.attention_reason
    assert refunds(order) == [1000, 5000]  # L1's refund beside the shop's own
    row = await db.return_row(handle.id)  # the read model shows what was paid, and the queue
    assert row["attention"] and row["attention_code"] == "refund_refused" and row["status"] == "received"
    assert [x["refunded"] for x in row["lines"]] == [1000, 0, 0] and row["store_credit_total"] == 1500
    assert await db.credit_balance(state.store_credit_code) == 1500
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await ts_env.sleep(timedelta(days=30))  # it waits for a person, however long
    assert (await handle.query(ReturnWorkflow.get_state)).status == "received"

    await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(
        action="store_credit", note="nothing left on the card", by="fin-1"))  # fmt: skip
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.attention, state.attention_code, state.resolutions) == (False, "", [])
    assert state.store_credit_total == 1500 + 5000 and state.refund_total == 1000
    assert refunds(order) == [1000, 5000]
    entry = next(x for x in state.timeline if x.code == "paid_as_store_credit")
    assert (entry.by, entry.note) == ("fin-1", "nothing left on the card")
    # On the return's one code, beside the 1,500 of L2: the shopper has one code to spend.
    assert await db.credit_balance(state.store_credit_code) == 1500 + 5000
    assert (await db.return_row(handle.id))["status"] == "completed"


async def test_finance_retries_then_records_a_refund_made_outside(ts_env, worker, shop, settings, db):
    handle, order, _ = await refused_return(ts_env, settings, shop)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(
            action="retry", note="more than owed", amount=5001, by="fin-1"))  # fmt: skip
    assert str(refused.value.cause.message).startswith("amount: 5001 is more than the 5000 still owed")
    await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(action="retry", note="again", by="fin-1"))
    state = await handle.query(ReturnWorkflow.get_state)  # Stripe still says no: still in the queue
    assert (state.status, state.attention_code, state.resolutions) == ("received", "refund_refused", FINANCE)
    await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(
        action="refund_outside", note="bank transfer", reference="SEPA-2291", by="fin-2"))  # fmt: skip
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert refunds(order) == [1000, 5000]  # nothing paid again at Stripe
    assert state.refund_total == 1000 + 5000 and not state.attention
    assert any("SEPA-2291" in said(state, x) and x.by == "fin-2" for x in state.timeline)


async def test_resolve_refuses_an_action_the_return_does_not_offer(ts_env, worker, shop, settings):
    order = await paid_order(ts_env, settings, {"L1": (1, 2500)})
    handle, _ = await start(ts_env, settings, order.number, [line("L1")])
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(action="store_credit", note="x", by="f"))
    assert str(refused.value.cause.message).startswith("status:")
    await handle.execute_update(ReturnWorkflow.cancel, "shopper")
    assert await handle.result() == "cancelled"


# --- one submit per key ---------------------------------------------------------------------------------


async def test_a_second_submit_is_refused_as_soon_as_the_first_has_started(ts_env, worker, shop, settings):
    order = await paid_order(ts_env, settings, {"L1": (3, 2500)})
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await ts_env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order.number),
                                                id=rid, task_queue=settings.task_queue)  # fmt: skip
    started.append(handle)
    bodies = [SubmitRequest(lines=[ReturnLineRequest(**line("L1", n))]) for n in (1, 2)]
    answers = await asyncio.gather(*(handle.execute_update(ReturnWorkflow.submit, b) for b in bodies),
                                   return_exceptions=True)  # fmt: skip
    [ok] = [a for a in answers if isinstance(a, SubmitAnswer)]
    [refused] = [a for a in answers if isinstance(a, WorkflowUpdateFailedError)]
    assert ALREADY_SUBMITTED in str(refused.cause.message if refused.cause else refused)
    state = await handle.query(ReturnWorkflow.get_state)
    assert [x.decision.quantity for x in state.lines] == [x.decision.quantity for x in ok.lines]
    # The units the refused body named are not claimed: another return of the order may take them.
    other, answer = await start(ts_env, settings, order.number, [line("L1", 3 - ok.lines[0].decision.quantity)])
    assert answer.status == "awaiting_shipment"
    for h in (handle, other):
        await h.execute_update(ReturnWorkflow.cancel, "shopper")
        assert await h.result() == "cancelled"


# --- the order's original shipping (EU withdrawal) -------------------------------------------------------


async def shipping_rows(settings, order: Order) -> list[tuple[str, int]]:
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        rows = await s.scalars(select(RefundRow).where(RefundRow.payment_reference == order.payment.reference))
        return sorted((r.key, r.amount) for r in rows if r.key.endswith(":refund:shipping"))


async def test_a_full_return_refunds_the_original_shipping_once(ts_env, worker, shop, settings):
    order = await paid_order(ts_env, settings, {"L1": (2, 2500)}, shipping=490)
    first, answer = await start(ts_env, settings, order.number, [line("L1", 1)])
    await deliver_and_inspect(first, answer)
    # Awaiting a result lets the time-skipping server skip far ahead (tests/conftest.py): without it, the second
    # return was filed decades later, outside the order's window, whenever a test before this one had left the
    # server skipping.
    with ts_env.auto_time_skipping_disabled():
        assert await first.result() == "completed"
    assert refunds(order) == [2500]  # half the order came back: the shipping stays paid
    second, answer = await start(ts_env, settings, order.number, [line("L1", 1)])
    await deliver_and_inspect(second, answer)
    assert await second.result() == "completed"
    assert refunds(order) == [490, 2500, 2500]  # every unit is back: the shipping too, once
    assert await shipping_rows(settings, order) == [(f"order:{order.number}:refund:shipping", 490)]
    state = await second.query(ReturnWorkflow.get_state)
    assert state.refund_total == 2500 + 490


@pytest.mark.parametrize(("rule", "expected"), [("never", [2500]), ("always", [490, 2500])])
async def test_refund_original_shipping_never_and_always(ts_env, worker, shop, settings, rule, expected):
    order = await paid_order(ts_env, settings, {"L1": (2, 2500)}, shipping=490)
    async with policy(settings, refund_original_shipping=rule):
        handle, answer = await start(ts_env, settings, order.number, [line("L1", 1)])
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    assert refunds(order) == expected
