"""Every exchange path of ReturnWorkflow on the time-skipping server, with the real activities behind it:
price differences paid in localstripe, stock reserved at submit and released, fallbacks, instant exchange."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor, Worker

from db.engine import get_sessionmaker
from db.models import ExchangePayment
from db.queries import upsert_order
from domain.messages import ReturnInput, SubmitRequest
from domain.models import CarrierEvent, Inspection, InspectionLine, RefundReview, ReturnLineRequest, ReturnState
from tests.workflows.policy_versions import policy
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
)
from worker import WORKFLOWS, activities
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


def sku(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6].upper()}"


def exchange(quantity: int, to_sku: str, difference_to: str = "refund") -> list[dict]:
    return [{"line_id": "L1", "quantity": quantity, "reason": "too_small", "resolution": "exchange",
             "exchange_sku": to_sku, "difference_to": difference_to}]  # fmt: skip


async def start(
    env: WorkflowEnvironment, settings, order_number: str, lines: list[dict], queue: str = "", **submit: object
):
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order_number),
                                             id=rid, task_queue=queue or settings.task_queue)  # fmt: skip
    started.append(handle)
    answer = await handle.execute_update(
        ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**x) for x in lines], **submit)
    )
    return handle, answer


async def scan(handle: WorkflowHandle, tracking: str, *events: str) -> None:
    for i, event in enumerate(events):
        await handle.signal(ReturnWorkflow.carrier_event,
                            CarrierEvent(tracking_number=tracking, event=event, occurred_at=datetime.now(UTC),
                                         event_id=f"evt-{i}-{event}"))  # fmt: skip


async def state_where(handle: WorkflowHandle, check, what: str) -> ReturnState:
    state = None
    for _ in range(200):
        state = await handle.query(ReturnWorkflow.get_state)
        if state is not None and check(state):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {what}; last {state.status if state else None}")


def tracking_of(state) -> str:
    return next(s.tracking_number for s in state.shipments if s.direction == "inbound")


def outbound(state) -> list:
    return [s for s in state.shipments if s.direction == "outbound"]


async def deliver_and_inspect(handle: WorkflowHandle, answer, accepted: int | None = None) -> None:
    await scan(handle, tracking_of(answer), "delivered")
    await state_where(handle, lambda s: s.status == "received", "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, Inspection(
        lines=[InspectionLine(line_id=x.decision.line_id, condition="new", restock=True,
                              accepted_quantity=x.decision.quantity if accepted is None else accepted)
               for x in answer.lines], inspected_by="wh-test"))  # fmt: skip


def intents_of(rid: str) -> list[stripe.PaymentIntent]:
    found = stripe.PaymentIntent.list(limit=100).auto_paging_iter()
    return [pi for pi in found if pi.metadata and pi.metadata.to_dict().get("return_id") == rid]


async def ledger(settings, rid: str) -> dict[str, ExchangePayment]:
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        rows = await s.scalars(select(ExchangePayment).where(ExchangePayment.return_id == rid))
        return {r.kind: r for r in rows}


# --- price differences --------------------------------------------------------------------------------


async def test_pricier_product_is_paid_once_before_it_ships(ts_env, worker, shop, settings, db, mailbox):
    hoodie = sku("HOODIE")
    await shop.inventory(hoodie, available=2, unit_price=4000)
    order = await shop.order(unit_price=2500)
    handle, answer = await start(ts_env, settings, order.number, exchange(1, hoodie))
    line = answer.decision.lines[0]
    assert (line.exchange_unit_price, line.price_difference, line.exchange_reserved) == (4000, 1500, True)
    assert any("you pay the difference of 15.00 EUR" in r for r in answer.decision.reasons)
    assert await db.available(hoodie) == 1  # reserved at submit
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    charges = intents_of(handle.id)
    assert [(pi.amount, pi.status, pi.payment_method) for pi in charges] == [(1500, "succeeded", "pm_card_visa")]
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.exchange_charged == 1500 and len(outbound(state)) == 1
    assert state.lines[0].exchanged_quantity == 1
    assert await db.available(hoodie) == 1  # the reservation was spent, not taken twice
    assert outbound(state)[0].tracking_number in mailbox.body(handle.id, "completed")
    # The e-mails name what comes instead, by its title: on the label's, and once it was sent, on the last.
    for kind in ("label", "completed"):
        assert f"- 1 × Tee\r\n  In exchange, you get {hoodie.title()}\r\n" in mailbox.body(handle.id, kind), kind


async def test_a_charge_other_than_the_one_agreed_is_refused_and_frees_what_it_held(ts_env, worker, shop, settings, db):
    """The shopper agreed to 15.00 in the portal, but the replacement's price changed before the workflow priced it
    under the order's lock: nothing is filed, and the order's unit and the reserved replacement are free again."""
    hoodie = sku("HOODIE")
    await shop.inventory(hoodie, available=2, unit_price=5000)  # 25.00 more, not the 15.00 agreed to
    order = await shop.order(unit_price=2500)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await start(ts_env, settings, order.number, exchange(1, hoodie), accept_charge=1500)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ChargeChanged" and cause.details == (2500,)
    first = started[-1]
    assert await db.available(hoodie) == 2
    _, answer = await start(ts_env, settings, order.number, exchange(1, hoodie), accept_charge=2500)
    assert answer.lines[0].decision.price_difference == 2500  # the unit was given back to the order
    assert await db.available(hoodie) == 1
    # (not first.result(): waiting on a result lets the time-skipping server jump past other tests' timers)
    for _ in range(200):
        if (await first.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.05)
    assert (await first.describe()).status == WorkflowExecutionStatus.COMPLETED


class LoseTheFirstChargeAnswer(Interceptor):
    """The worker dies after Stripe took the charge but before Temporal heard: the attempt is retried."""

    attempts = 0

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        outer = self

        class Inbound(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput):  # type: ignore[no-untyped-def]
                result = await super().execute_activity(input)
                if activity.info().activity_type == "charge_payment":
                    outer.attempts += 1
                    if activity.info().attempt == 1:
                        raise RuntimeError("lost the answer after the charge")
                return result

        return Inbound(next)


async def test_a_retried_charge_pays_the_exact_difference_once(ts_env, worker, shop, settings):
    hoodie = sku("HOODIE")
    await shop.inventory(hoodie, available=1, unit_price=4199)
    order = await shop.order(unit_price=2500)
    flaky = LoseTheFirstChargeAnswer()
    queue = "reverso-test-charge-retry"
    async with Worker(ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(settings),
                      interceptors=[flaky]):  # fmt: skip
        handle, answer = await start(ts_env, settings, order.number, exchange(1, hoodie), queue=queue)
        await deliver_and_inspect(handle, answer)
        assert await handle.result() == "completed"
        state = await handle.query(ReturnWorkflow.get_state)  # a query needs a worker on the queue
    assert flaky.attempts == 2
    assert [(pi.amount, pi.currency, pi.status) for pi in intents_of(handle.id)] == [(1699, "eur", "succeeded")]
    assert state.exchange_charged == 1699


@pytest.mark.parametrize("difference_to", ["refund", "store_credit"])
async def test_cheaper_product_pays_the_difference_back_as_chosen(ts_env, worker, shop, settings, db, difference_to):
    cap = sku("CAP")
    await shop.inventory(cap, available=1, unit_price=1500)
    order = await shop.order(unit_price=2500)
    handle, answer = await start(ts_env, settings, order.number, exchange(1, cap, difference_to))
    assert answer.decision.lines[0].price_difference == -1000
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    refunds = [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data]
    if difference_to == "refund":
        assert refunds == [1000] and state.refund_total == 1000 and state.store_credit_code is None
    else:
        assert refunds == [] and state.store_credit_total == 1000
        assert await db.credit_balance(state.store_credit_code) == 1000
    assert intents_of(handle.id) == [] and len(outbound(state)) == 1


async def test_exchange_fee_applies_unless_equal_or_lower_exchanges_are_free(ts_env, worker, shop, settings):
    same = sku("TEE")
    await shop.inventory(same, available=2, unit_price=2500)
    order = await shop.order(unit_price=2500)
    async with policy(settings, return_shipping_fee=400, free_exchanges=False):
        _, paid = await start(ts_env, settings, order.number, exchange(1, same))
    assert (paid.decision.lines[0].exchange_fee, paid.decision.lines[0].price_difference) == (400, 400)
    order2 = await shop.order(unit_price=2500)
    async with policy(settings, return_shipping_fee=400, free_exchanges=True):
        _, free = await start(ts_env, settings, order2.number, exchange(1, same))
    assert (free.decision.lines[0].exchange_fee, free.decision.lines[0].price_difference) == (0, 0)


async def test_declined_card_falls_back_and_tells_the_shopper(ts_env, worker, shop, settings, db, mailbox):
    hoodie = sku("HOODIE")
    await shop.inventory(hoodie, available=1, unit_price=4000)
    order = await shop.order(unit_price=2500)
    # The order's card now declines every new charge (localstripe's 4000000000000341).
    card = stripe.PaymentMethod.create(type="card", card={"number": "4000000000000341", "exp_month": 12,
                                                          "exp_year": 2030, "cvc": "123"})  # fmt: skip
    paid = stripe.PaymentIntent.create(amount=2500, currency="eur", payment_method=card.id)
    order.payment.reference = paid.id
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_order(s, order)
    # (That card never paid the order, so nothing could be refunded to it: the policy falls back to credit.)
    async with policy(settings, exchange_fallback="store_credit"):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, hoodie))
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert outbound(state) == [] and state.exchange_charged == 0 and state.store_credit_total == 2500
    assert (await ledger(settings, handle.id))["charge"].status == "failed"
    assert await db.available(hoodie) == 1  # the reservation went back
    assert "comes back to you as store credit" in mailbox.body(handle.id, "exchange_fallback")


# --- stock ----------------------------------------------------------------------------------------------


async def test_out_of_stock_falls_back_to_store_credit_as_policy_says(ts_env, worker, shop, settings, db, mailbox):
    gone = sku("JACKET")
    await shop.inventory(gone, available=0, unit_price=2500)
    order = await shop.order(unit_price=2500)
    async with policy(settings, exchange_fallback="store_credit"):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, gone))
    assert not answer.decision.lines[0].exchange_reserved
    assert any("out of stock now" in r and "store credit" in r for r in answer.decision.reasons)
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert outbound(state) == [] and state.store_credit_total == 2500 and state.refund_total == 0
    assert await db.credit_balance(state.store_credit_code) == 2500
    body = mailbox.body(handle.id, "exchange_fallback")
    # The item by its name and the amount as the shopper's language writes it; the SKU is the shop's word, not theirs.
    assert gone not in body and "Tee: €25.00 comes back to you as store credit" in body
    completed = mailbox.body(handle.id, "completed")  # the item, and no replacement that never came
    assert "- 1 × Tee\r\n" in completed and "In exchange" not in completed
    assert mailbox.kinds(handle.id).count("exchange_fallback") == 1


async def test_stock_reserved_at_submit_is_released_on_cancel_reject_and_expiry(ts_env, worker, shop, settings, db):
    shoe = sku("SHOE")
    await shop.inventory(shoe, available=5, unit_price=2500)
    cancelled = await start(ts_env, settings, (await shop.order()).number, exchange(1, shoe))
    expired = await start(ts_env, settings, (await shop.order()).number, exchange(1, shoe))
    rejected = await start(ts_env, settings, (await shop.order(unit_price=30000)).number, exchange(1, shoe))
    assert await db.available(shoe) == 2
    await cancelled[0].execute_update(ReturnWorkflow.cancel, "shopper")
    await rejected[0].execute_update(ReturnWorkflow.reject, "worn")
    assert [await h.result() for h, _ in (cancelled, rejected, expired)] == ["cancelled", "rejected", "expired"]
    assert await db.available(shoe) == 5


async def test_refused_units_put_their_reserved_stock_back(ts_env, worker, shop, settings, db):
    boot = sku("BOOT")
    await shop.inventory(boot, available=3, unit_price=2500)
    order = await shop.order(quantity=2, unit_price=2500)
    handle, answer = await start(ts_env, settings, order.number, exchange(2, boot))
    assert await db.available(boot) == 1
    await deliver_and_inspect(handle, answer, accepted=1)
    await state_where(handle, lambda s: s.status == "pending_refund_review", "in review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True))
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.lines[0].exchanged_quantity == 1
    assert await db.available(boot) == 2


# --- instant exchange -----------------------------------------------------------------------------------


async def start_instant(ts_env, settings, shop, db, unit_price: int = 2500, to_price: int = 2500):
    to = sku("DRESS")
    await shop.inventory(to, available=1, unit_price=to_price)
    order = await shop.order(unit_price=unit_price)
    async with policy(settings, instant_exchange=True):
        handle, answer = await start(ts_env, settings, order.number, exchange(1, to))
    state = await state_where(handle, lambda s: outbound(s), "shipped the replacement")
    assert state.status == "awaiting_shipment" and state.exchange_hold == unit_price
    assert await db.available(to) == 0
    return handle, answer, order


async def test_instant_exchange_releases_the_hold_when_the_item_passes(ts_env, worker, shop, settings, db, mailbox):
    handle, answer, order = await start_instant(ts_env, settings, shop, db, to_price=3000)
    [charge] = [pi for pi in intents_of(handle.id) if pi.capture_method != "manual"]
    assert charge.amount == 500  # the higher price, paid before the replacement left
    [hold] = [pi for pi in intents_of(handle.id) if pi.capture_method == "manual"]
    assert (hold.amount, hold.status) == (2500, "requires_capture")
    for _ in range(100):  # the mail follows the shipment by an activity or two
        if "exchange_shipped" in mailbox.kinds(handle.id):
            break
        await asyncio.sleep(0.05)
    assert "hold of €25.00" in mailbox.body(handle.id, "exchange_shipped")
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    assert stripe.PaymentIntent.retrieve(hold.id).status == "canceled"
    state = await handle.query(ReturnWorkflow.get_state)
    assert len(outbound(state)) == 1 and state.exchange_hold == 0 and state.exchange_charged == 500
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []
    assert (await ledger(settings, handle.id))["hold"].status == "released"


async def test_instant_exchange_captures_the_hold_when_no_parcel_comes(ts_env, worker, shop, settings, db):
    handle, _, _ = await start_instant(ts_env, settings, shop, db)
    assert await handle.result() == "expired"
    [hold] = intents_of(handle.id)
    assert stripe.PaymentIntent.retrieve(hold.id).status == "succeeded"
    row = (await ledger(settings, handle.id))["hold"]
    assert (row.status, row.captured_amount) == ("captured", 2500)
    state = await handle.query(ReturnWorkflow.get_state)
    assert outbound(state)[0].status == "shipped"  # the replacement's label is not voided


async def test_instant_exchange_captures_the_hold_when_the_item_fails(ts_env, worker, shop, settings, db):
    handle, answer, _ = await start_instant(ts_env, settings, shop, db)
    await deliver_and_inspect(handle, answer, accepted=0)
    await state_where(handle, lambda s: s.status == "pending_refund_review", "in review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True))
    assert await handle.result() == "completed"
    row = (await ledger(settings, handle.id))["hold"]
    assert (row.status, row.captured_amount) == ("captured", 2500)
    charge = stripe.PaymentIntent.retrieve(row.provider_intent_id).latest_charge
    assert (charge.captured, charge.amount - charge.amount_refunded) == (True, 2500)


async def test_instant_exchange_cancelled_after_shipping_captures_the_hold(ts_env, worker, shop, settings, db):
    handle, _, _ = await start_instant(ts_env, settings, shop, db)
    await handle.execute_update(ReturnWorkflow.cancel, "shopper")
    assert await handle.result() == "cancelled"
    assert (await ledger(settings, handle.id))["hold"].status == "captured"
