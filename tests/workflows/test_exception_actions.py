"""The Exceptions queue's actions where the parcel or the label is the problem (issue 17): closing a return whose
parcel is on its way gives back what it held, a new label the carrier refuses puts the return in the queue, and a
new label asked for as the ship-by date passes is never made only to be voided. On the time-skipping server with
the real activities, like test_exceptions.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import stripe
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError

from activities.carriers.local import LocalCarrier
from domain.messages import LabelRequest, SubmitRequest
from domain.models import ReturnLineRequest, Shipment
from tests.support.timeline import messages
from tests.workflows.test_exceptions import _on_own_queue, claims_released, refusing_carrier, resolve, started_on
from tests.workflows.test_exchanges import ledger, start_instant, state_where
from tests.workflows.test_exchanges import scan as scan_all
from tests.workflows.test_logistics import LINE, inbound, scan, start, until
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
    tracking_of,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_closing_a_return_in_transit_frees_the_orders_units_and_voids_its_unused_label(
    ts_env, worker, shop, settings, db
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number, parcels=2)
    first, second = (s.tracking_number for s in inbound(answer))
    await scan(handle, first, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    await ts_env.sleep(timedelta(days=5, hours=1))
    await until(handle, lambda st: st.attention_code == "parcel_stuck")

    done = await handle.execute_update(ReturnWorkflow.resolve, resolve("close", by="admin-ana", note="carrier lost it"))
    assert done.status == "completed" and not done.attention
    assert await claims_released(db, handle.id) == [True]
    _, again = await start(ts_env, settings, order.number)  # the shopper can return the unit again
    assert again.status == "awaiting_shipment"
    assert await handle.result() == "completed"
    assert await db.shipment_status(second) == "voided"  # never used: refunded by the carrier
    said = messages(done)
    assert f"unused return label {second} voided" in said
    assert "the order's units this return claimed are released: they may be returned again" in said


async def test_closing_an_instant_exchange_in_transit_captures_its_hold(ts_env, worker, shop, settings, db):
    handle, answer, _ = await start_instant(ts_env, settings, shop, db)
    await scan_all(handle, tracking_of(answer), "in_transit")
    await state_where(handle, lambda s: s.status == "in_transit", "in transit")
    await ts_env.sleep(timedelta(days=5, hours=1))
    await state_where(handle, lambda s: s.attention_code == "parcel_stuck", "flagged the stuck parcel")

    done = await handle.execute_update(ReturnWorkflow.resolve, resolve("close", by="admin-ana", note="never sent"))
    assert done.status == "completed" and done.exchange_hold == 0 and not done.attention
    assert await handle.result() == "completed"
    row = (await ledger(settings, handle.id))["hold"]
    assert (row.status, row.captured_amount) == ("captured", 2500)  # the shopper keeps the replacement
    assert stripe.PaymentIntent.retrieve(row.provider_intent_id).status == "succeeded"
    assert any("25.00 EUR of the card hold captured after the return was closed" in m for m in messages(done))
    assert await claims_released(db, handle.id) == [True]


async def test_a_new_label_the_carrier_refuses_puts_the_return_in_the_queue_and_finance_retries_it(
    ts_env, shop, settings, mailbox
):
    refuse = asyncio.Event()
    queue, worker = await _on_own_queue(ts_env, settings, "reissue-refused", refusing_carrier(settings, refuse))
    async with worker:
        order = await shop.order()
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        answer = await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        old = tracking_of(answer)
        refuse.set()
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
        assert "no return label could be made: the carrier cannot deliver to this address" in str(err.value.cause)
        state = await handle.query(ReturnWorkflow.get_state)
        assert (state.status, state.attention, state.attention_code) == ("awaiting_shipment", True, "label_unavailable")
        assert state.resolutions == ["retry"]
        assert f"the old label {old} was voided" in state.attention_reason
        assert [s.status for s in inbound(state)] == ["voided"]

        refuse.clear()
        done = await handle.execute_update(ReturnWorkflow.resolve, resolve("retry", by="fin-ana"))
        assert not done.attention and done.resolutions == []
        assert [s.status for s in inbound(done)] == ["voided", "label_created"]
        new = inbound(done)[-1].tracking_number
        assert any(t.code == "label_reissued_for_shop" and t.params["tracking_numbers"] == [new] and t.by == "fin-ana"
                   for t in done.timeline)  # fmt: skip
        for _ in range(100):
            if "label_reissued" in mailbox.kinds(rid):
                break
            await asyncio.sleep(0.05)
        assert new in mailbox.body(rid, "label_reissued")
        await handle.terminate("test over")


async def test_a_new_label_racing_the_expiry_stays_valid_and_one_asked_after_the_ship_by_date_is_refused(
    ts_env, shop, settings, db
):
    carrier = LocalCarrier(settings)
    failing, begun = asyncio.Event(), asyncio.Event()

    @activity.defn(name="create_label")
    async def slow_label(req: LabelRequest) -> Shipment:
        if failing.is_set():  # the carrier's API does not answer: retried, a timer apart, while time goes on
            begun.set()
            raise RuntimeError("carrier API timed out")
        return await carrier.create_label(req)

    queue, worker = await _on_own_queue(ts_env, settings, "reissue-expiry", slow_label)
    async with worker:
        order = await shop.order()
        handle = await started_on(ts_env, queue, order)
        await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        await ts_env.sleep(timedelta(days=13, hours=23, minutes=55))
        failing.set()
        reissuing = asyncio.create_task(handle.execute_update(ReturnWorkflow.reissue_label, "shopper"))
        await asyncio.wait_for(begun.wait(), 30)
        await ts_env.sleep(timedelta(minutes=10))  # the ship-by date passes while the carrier makes the new label
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
        assert "ship-by date" in str(err.value.cause) and "has passed; no new label" in str(err.value.cause)
        failing.clear()
        await ts_env.sleep(timedelta(minutes=6))
        state = await reissuing
        new = inbound(state)[-1].tracking_number
        state = await until(handle, lambda st: st.status == "expired")
        # Made before the expiry: valid for a late scan, like the label it replaced would have been.
        assert [s.status for s in inbound(state)] == ["voided", "label_created"]
        assert await db.shipment_status(new) == "label_created"
        await handle.terminate("test over")
