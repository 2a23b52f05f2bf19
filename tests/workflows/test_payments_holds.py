"""Issue 16, findings 1 and 6, on the time-skipping server with the real activities and the wrapped payment peer:
an instant exchange's card hold never outlives Stripe's 7-day authorization, a hold Stripe let lapse never fails
the return, and a cancel while the replacement is being sent stops the charge and the capture."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import timedelta

import pytest
import stripe
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor, Worker

from domain.models import RefundReview, ResolveRequest
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
    start_instant,
    state_where,
)
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
)
from worker import WORKFLOWS, activities
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

DAY = 86400


def move_peer_clock(stripe_url: str, days: float) -> None:
    """Stripe's clock runs beside the workflow's: the peer is moved forward as far as the test server was."""
    request = urllib.request.Request(f"{stripe_url}/_peer/clock", method="POST",
                                     data=json.dumps({"advance_seconds": int(days * DAY)}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def the_hold(rid: str) -> stripe.PaymentIntent:
    [hold] = [pi for pi in intents_of(rid) if pi.capture_method == "manual"]
    return hold


async def test_a_hold_inspected_on_day_6_is_released_untouched(ts_env, worker, shop, settings, db, stripe_url):
    handle, answer, order = await start_instant(ts_env, settings, shop, db)
    await ts_env.sleep(timedelta(days=6))
    move_peer_clock(stripe_url, 6)
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    assert stripe.PaymentIntent.retrieve(the_hold(handle.id).id).status == "canceled"
    assert (await ledger(settings, handle.id))["hold"].status == "released"
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.exchange_hold, state.refund_total, state.attention) == (0, 0, False)


async def test_a_hold_is_captured_before_day_7_and_kept_when_the_item_fails_on_day_8(
    ts_env, worker, shop, settings, db, stripe_url
):
    handle, answer, _ = await start_instant(ts_env, settings, shop, db)
    await ts_env.sleep(timedelta(days=8))
    state = await state_where(handle, lambda s: s.exchange_hold == 0, "captured the hold before it lapsed")
    assert any("captured after 6 days" in m for m in messages(state))
    move_peer_clock(stripe_url, 8)  # Stripe would have cancelled an authorization left open until now
    await deliver_and_inspect(handle, answer, accepted=0)
    await state_where(handle, lambda s: s.status == "pending_refund_review", "in review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True))
    assert await handle.result() == "completed"
    row = (await ledger(settings, handle.id))["hold"]
    assert (row.status, row.captured_amount) == ("captured", 2500)
    hold = the_hold(handle.id)
    assert stripe.PaymentIntent.retrieve(hold.id).status == "succeeded"
    assert stripe.Refund.list(payment_intent=hold.id).data == []  # the shopper kept the replacement: paid for


async def test_a_hold_captured_on_day_6_is_refunded_when_the_item_passes_on_day_8(
    ts_env, worker, shop, settings, db, stripe_url
):
    handle, answer, order = await start_instant(ts_env, settings, shop, db)
    await ts_env.sleep(timedelta(days=8))
    await state_where(handle, lambda s: s.exchange_hold == 0, "captured the hold before it lapsed")
    move_peer_clock(stripe_url, 8)
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    hold = the_hold(handle.id)
    assert [r.amount for r in stripe.Refund.list(payment_intent=hold.id).data] == [2500]
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.refund_total, state.attention) == (2500, False)


async def test_a_hold_is_captured_in_time_when_no_parcel_comes_by_day_15(
    ts_env, worker, shop, settings, db, stripe_url
):
    handle, _, _ = await start_instant(ts_env, settings, shop, db)
    await ts_env.sleep(timedelta(days=7))
    await state_where(handle, lambda s: s.exchange_hold == 0, "captured the hold before it lapsed")
    move_peer_clock(stripe_url, 15)
    assert await handle.result() == "expired"
    row = (await ledger(settings, handle.id))["hold"]
    assert (row.status, row.captured_amount) == ("captured", 2500)
    assert stripe.PaymentIntent.retrieve(the_hold(handle.id).id).status == "succeeded"


async def test_a_hold_stripe_let_lapse_puts_the_return_in_the_queue_and_never_fails_it(
    ts_env, worker, shop, settings, db, stripe_url
):
    handle, answer, _ = await start_instant(ts_env, settings, shop, db)
    move_peer_clock(stripe_url, 8)  # the authorization lapses before Reverso's capture is due
    # Past the capture (day 6.5), short of day 7, when the parcel wait the label started falls due: a scan whose task
    # cancels a timer that fired meanwhile strands the run on the time-skipping server (temporalio/sdk-java#3088).
    await ts_env.sleep(timedelta(days=6, hours=23))
    state = await state_where(handle, lambda s: s.attention_code == "hold_expired", "flagged the lapsed hold")
    assert state.status == "awaiting_shipment" and state.attention and "not captured" in state.attention_reason
    assert (await ledger(settings, handle.id))["hold"].status == "expired"
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await deliver_and_inspect(handle, answer)  # everything came back: the lapse cost nothing
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert (state.attention, state.attention_code) == (False, "")


class PauseTheHold(Interceptor):
    """Holds the card-hold activity until the test lets it go: a cancel arrives while the exchange is being sent."""

    def __init__(self) -> None:
        self.reached, self.go = asyncio.Event(), asyncio.Event()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        outer = self

        class Inbound(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput):  # type: ignore[no-untyped-def]
                if activity.info().activity_type == "charge_payment" and input.args[0].kind == "hold":
                    outer.reached.set()
                    await outer.go.wait()
                return await super().execute_activity(input)

        return Inbound(next)


async def test_a_cancel_while_the_instant_exchange_ships_stops_the_charge_and_the_capture(ts_env, shop, settings, db):
    dearer = sku("DRESS")
    await shop.inventory(dearer, available=1, unit_price=3000)
    order = await shop.order(unit_price=2500)
    pause = PauseTheHold()
    queue = "reverso-test-cancel-instant"
    async with Worker(ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities(settings),
                      interceptors=[pause]):  # fmt: skip
        async with policy(settings, instant_exchange=True):
            handle, _ = await start(ts_env, settings, order.number, exchange(1, dearer), queue=queue)
        await asyncio.wait_for(pause.reached.wait(), 30)
        await handle.execute_update(ReturnWorkflow.cancel, "shopper")
        pause.go.set()
        assert await handle.result() == "cancelled"
        state = await handle.query(ReturnWorkflow.get_state)
    assert [pi.capture_method for pi in intents_of(handle.id)] == ["manual"]  # no price difference was charged
    assert stripe.PaymentIntent.retrieve(the_hold(handle.id).id).status == "canceled"
    assert (await ledger(settings, handle.id))["hold"].status == "released"
    assert outbound(state) == [] and state.exchange_hold == 0 and state.exchange_charged == 0
    assert await db.available(dearer) == 1  # nothing shipped: the stock went back
    assert any("released after the return was cancelled" in m for m in messages(state))


async def test_a_lapsed_hold_for_a_kept_replacement_waits_for_finance_who_charges_it_off_session(
    ts_env, worker, shop, settings, db, stripe_url
):
    handle, answer, _ = await start_instant(ts_env, settings, shop, db)
    move_peer_clock(stripe_url, 8)  # the authorization lapses before Reverso's capture is due
    # Past the capture (day 6.5), short of day 7, when the parcel wait the label started falls due: a scan whose task
    # cancels a timer that fired meanwhile strands the run on the time-skipping server (temporalio/sdk-java#3088).
    await ts_env.sleep(timedelta(days=6, hours=23))
    await state_where(handle, lambda s: s.attention_code == "hold_expired", "flagged the lapsed hold")
    await deliver_and_inspect(handle, answer, accepted=0)  # refused: the shopper keeps the replacement unpaid
    await state_where(handle, lambda s: s.status == "pending_refund_review", "in review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True))
    state = await state_where(handle, lambda s: s.resolutions == ["retry", "close"], "asked a person")
    assert state.attention_code == "hold_expired" and state.status != "completed"
    assert "25.00 EUR for the replacement the shopper keeps was not taken" in state.attention_reason
    with pytest.raises(WorkflowUpdateFailedError) as err:  # no more than what the hold should have taken
        await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(action="retry", note="n", by="fin-ana",
                                                                           amount=2501))  # fmt: skip
    assert "amount: 2501 is more than the 2500" in str(err.value.cause)

    done = await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(action="retry", note="card on file",
                                                                              by="fin-ana"))  # fmt: skip
    assert not done.attention and done.resolutions == []
    assert await handle.result() == "completed"
    [charge] = [pi for pi in intents_of(handle.id) if pi.capture_method != "manual"]
    assert (charge.amount, charge.status) == (2500, "succeeded")
    assert charge.metadata.to_dict()["reverso_key"] == f"{handle.id}:resolve:1:hold"
    entry = next(t for t in done.timeline if t.code == "hold_charged_instead")
    assert (entry.by, entry.note, entry.params) == ("fin-ana", "card on file", {"amount": 2500})


async def test_a_lapsed_hold_on_an_expired_instant_exchange_is_written_off_by_an_admin(
    ts_env, worker, shop, settings, db, stripe_url
):
    to = sku("DRESS")
    await shop.inventory(to, available=1, unit_price=2500)
    order = await shop.order(unit_price=2500)
    async with policy(settings, instant_exchange=True, shipment_expiry_days=8, late_scan_days=0):
        handle, _ = await start(ts_env, settings, order.number, exchange(1, to))
    await state_where(handle, lambda s: outbound(s), "shipped the replacement")
    move_peer_clock(stripe_url, 8)  # Stripe let the authorization lapse before Reverso's capture on day 6.5
    await ts_env.sleep(timedelta(days=9))  # the return expires on day 8 with the replacement kept
    state = await state_where(handle, lambda s: s.resolutions == ["retry", "close"], "asked a person")
    assert (state.status, state.attention_code) == ("expired", "hold_expired")
    done = await handle.execute_update(ReturnWorkflow.resolve, ResolveRequest(action="close", note="goodwill",
                                                                              by="admin-ana"))  # fmt: skip
    assert not done.attention and done.status == "expired"
    assert await handle.result() == "expired"
    assert [pi.capture_method for pi in intents_of(handle.id)] == ["manual"]  # nothing charged
    assert any("25.00 EUR the lapsed card hold should have taken is not collected" in m for m in messages(done))
