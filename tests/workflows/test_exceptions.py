"""Returns that cannot go on by themselves (issue 17): a parcel lost or sent back is closed or paid without it by a
person, a label the carrier will not make ends the submit or approval cleanly, racing updates leak no label, a
failing activity is flagged while it is retried, and staff are e-mailed once per return entering the queue.
On the time-skipping server with the real activities, like test_logistics.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select
from temporalio import activity
from temporalio.activity import _Definition
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.carriers.local import LocalCarrier
from activities.notifications import Notifications
from activities.read_model import ReadModel
from db.models import ReturnClaim, ReturnRow, ShipmentRow
from domain.messages import EmailInput, LabelRequest, ReturnInput, SubmitRequest
from domain.models import ResolveRequest, ReturnLineRequest, ReturnState, Shipment
from tests.workflows.test_logistics import LINE, inbound, scan, start, until
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    inspect_all,
    started,
    tracking_of,
)
from worker import WORKFLOWS
from worker import activities as worker_activities
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


def resolve(action: str, by: str = "fin-ana", note: str = "checked with the carrier", **more: object) -> ResolveRequest:
    return ResolveRequest.model_validate({"action": action, "note": note, "by": by, **more})


async def claims_released(db, rid: str) -> list[bool]:
    async with db.sessions() as s:
        return list(await s.scalars(select(ReturnClaim.released).where(ReturnClaim.return_id == rid)))


async def test_a_lost_parcel_is_refunded_without_receipt_by_finance(ts_env, worker, shop, settings, mailbox):
    order = await shop.order(unit_price=4200)
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    await ts_env.sleep(timedelta(days=5, hours=1))
    state = await until(handle, lambda st: st.attention_code == "parcel_stuck")
    assert state.resolutions == ["refund_without_receipt", "close"]
    await ts_env.sleep(timedelta(days=10, hours=1))
    state = await until(handle, lambda st: st.attention_code == "parcel_lost")
    assert state.resolutions == ["refund_without_receipt", "close"] and state.status == "in_transit"
    assert f"parcel {tracking} has had no carrier scan for 15 days: it is taken as lost" == state.attention_reason

    done = await handle.execute_update(ReturnWorkflow.resolve, resolve("refund_without_receipt"))
    assert done.status == "completed" and not done.attention and done.resolutions == []
    assert await handle.result() == "completed"
    refunds = stripe.Refund.list(payment_intent=order.payment.reference).data
    assert [r.amount for r in refunds] == [4200]
    entry = next(t for t in done.timeline if t.code == "refund_without_receipt")
    assert entry.by == "fin-ana" and entry.note == "checked with the carrier"
    assert "received" not in mailbox.kinds(handle.id)  # the parcel never came: nobody says it did


async def test_a_parcel_returned_to_sender_is_closed_by_an_admin_with_nothing_paid(ts_env, worker, shop, settings):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit")
    await scan(handle, tracking, "returned_to_sender")
    state = await until(handle, lambda st: st.attention_code == "returned_to_sender")
    assert state.resolutions == ["refund_without_receipt", "close"]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ReturnWorkflow.resolve, resolve("reopen", by="wh-ana"))
    assert "does not fit" in str(err.value.cause)
    done = await handle.execute_update(ReturnWorkflow.resolve, resolve("close", by="admin-ana", note="shopper kept it"))
    assert done.status == "completed" and done.refund_total == 0
    assert await handle.result() == "completed"
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []
    assert any(t.by == "admin-ana" and t.note == "shopper kept it" for t in done.timeline)


def refusing_carrier(settings, refuse: asyncio.Event | None = None):
    carrier = LocalCarrier(settings)

    @activity.defn(name="create_label")
    async def create_label(req: LabelRequest) -> Shipment:
        if refuse is None or refuse.is_set():
            raise ApplicationError("the carrier cannot deliver to this address", type="AddressRefused",
                                   non_retryable=True)  # fmt: skip
        return await carrier.create_label(req)

    return create_label


async def started_on(ts_env, queue: str, order):
    """A return of `order` started on the test's own task queue (its worker has the activities replaced)."""
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    return await ts_env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order.number),
                                              id=rid, task_queue=queue)  # fmt: skip


async def _on_own_queue(ts_env, settings, name: str, *replacing):
    queue = f"{settings.task_queue}-{name}"
    names = {_Definition.must_from_callable(a).name for a in replacing}
    others = [a for a in worker_activities(settings) if _Definition.must_from_callable(a).name not in names]
    return queue, Worker(ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=[*others, *replacing])


async def test_a_submit_whose_label_cannot_be_made_is_refused_with_the_reason_and_releases_its_claims(
    ts_env, shop, settings, mailbox, db
):
    queue, worker = await _on_own_queue(ts_env, settings, "no-label", refusing_carrier(settings))
    async with worker:
        order = await shop.order()
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        assert "no return label could be made: the carrier cannot deliver to this address" in str(err.value.cause)
        with ts_env.auto_time_skipping_disabled():
            assert await asyncio.wait_for(handle.result(), 30) == "rejected"
        state = await handle.query(ReturnWorkflow.get_state)
        assert state.attention_code == "label_unavailable" and state.attention and state.resolutions == []
        assert await claims_released(db, rid) == [True]
        # The shopper reads why in their words; the carrier's own words are for staff, in the timeline.
        told = mailbox.body(rid, "rejected")
        assert "We could not make a return label for it" in told and "the carrier cannot" not in told
        assert state.timeline[-1].code == "label_unavailable"
        assert state.timeline[-1].params == {
            "reason": "no return label could be made: the carrier cannot deliver to this address"
        }


async def test_an_approval_whose_label_cannot_be_made_ends_the_return_and_names_the_reason(ts_env, shop, settings, db):
    refuse = asyncio.Event()
    refuse.set()
    queue, worker = await _on_own_queue(ts_env, settings, "no-label-approve", refusing_carrier(settings, refuse))
    async with worker:
        order = await shop.order(unit_price=30000)
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        answer = await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        assert answer.status == "pending_approval"
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(ReturnWorkflow.approve, "boss")
        assert "no return label could be made" in str(err.value.cause)
        with ts_env.auto_time_skipping_disabled():
            assert await asyncio.wait_for(handle.result(), 30) == "rejected"
        state = await handle.query(ReturnWorkflow.get_state)
        assert state.attention_code == "label_unavailable"
        assert await claims_released(db, rid) == [True]


async def test_a_cancel_racing_an_approval_leaves_no_label_unvoided(ts_env, shop, settings, db):
    carrier = LocalCarrier(settings)
    begun, release = asyncio.Event(), asyncio.Event()

    @activity.defn(name="create_label")
    async def slow_label(req: LabelRequest) -> Shipment:
        shipment = await carrier.create_label(req)
        begun.set()
        await release.wait()
        return shipment

    queue, worker = await _on_own_queue(ts_env, settings, "race-label", slow_label)
    async with worker:
        order = await shop.order(unit_price=30000)
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        approving = asyncio.create_task(handle.execute_update(ReturnWorkflow.approve, "boss"))
        await asyncio.wait_for(begun.wait(), 30)
        cancelled = await handle.execute_update(ReturnWorkflow.cancel, "shopper")
        assert cancelled.status == "cancelled"
        release.set()
        await approving
        with ts_env.auto_time_skipping_disabled():
            assert await asyncio.wait_for(handle.result(), 30) == "cancelled"
        state = await handle.query(ReturnWorkflow.get_state)
        assert [s.status for s in inbound(state)] == ["voided"]
        async with db.sessions() as s:
            rows = list(await s.scalars(select(ShipmentRow).where(ShipmentRow.return_id == rid)))
        assert rows and all(r.voided_at is not None for r in rows)


async def test_an_activity_failing_for_long_flags_the_return_while_retrying_goes_on(ts_env, shop, settings, mailbox):
    failing = asyncio.Event()
    failing.set()
    attempts: list[int] = []
    sender = Notifications(settings)

    @activity.defn(name="send_email")
    async def flaky_mail(inp: EmailInput) -> None:
        if inp.kind == "label" and failing.is_set():
            attempts.append(activity.info().attempt)
            raise RuntimeError("SMTP server went away")
        await sender.send(inp)

    queue, worker = await _on_own_queue(ts_env, settings, "stalled-mail", flaky_mail)
    async with worker:
        order = await shop.order()
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        await ts_env.sleep(timedelta(minutes=10))
        state = await until(handle, lambda st: st.attention_code == "activity_stalled")
        assert "send_email failed 10 times (SMTP server went away); still retrying" in state.attention_reason
        assert len(attempts) >= 10
        failing.clear()
        await ts_env.sleep(timedelta(minutes=6))
        state = await until(handle, lambda st: not st.attention)
        assert state.attention_code == "" and state.status == "awaiting_shipment"
        assert "label" in mailbox.kinds(rid)
        await handle.terminate("test over")  # its task queue goes with this worker


async def test_a_read_model_write_failing_for_long_leaves_the_workflow_task_and_flags_the_return(
    ts_env, shop, settings, db
):
    """It was a local activity retried without limit inside the workflow task: during a long database outage the
    task stayed open and the history grew every few seconds, and nobody was told."""
    failing = asyncio.Event()
    model = ReadModel(settings)

    @activity.defn(name="project_return")
    async def flaky_projection(state: ReturnState) -> None:
        if failing.is_set():
            raise RuntimeError("connection refused")
        await model.project(state)

    queue, worker = await _on_own_queue(ts_env, settings, "stalled-projection", flaky_projection)
    async with worker:
        order = await shop.order()
        handle = await started_on(ts_env, queue, order)
        rid = handle.id
        answer = await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        failing.set()
        await scan(handle, tracking_of(answer), "in_transit")
        for _ in range(200):  # a few quick tries in the task, then a regular activity, out of the task
            kinds = [e.event_type for e in (await handle.fetch_history()).events]
            if kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) > 1:  # the label's, then the projection's
                break
            await asyncio.sleep(0.05)
        await ts_env.sleep(timedelta(minutes=10))
        state = await until(handle, lambda st: st.attention_code == "activity_stalled")
        assert "project_return failed 10 times (connection refused)" in state.attention_reason
        before = len((await handle.fetch_history()).events)
        await ts_env.sleep(timedelta(hours=1))
        assert len((await handle.fetch_history()).events) - before < 100  # a round every few minutes, not seconds
        failing.clear()
        await ts_env.sleep(timedelta(minutes=6))
        state = await until(handle, lambda st: not st.attention)
        for _ in range(100):  # the read model catches up
            async with db.sessions() as s:
                if await s.scalar(select(ReturnRow.status).where(ReturnRow.id == rid)) == "in_transit":
                    break
            await asyncio.sleep(0.05)
        async with db.sessions() as s:
            row = await s.get(ReturnRow, rid)
            assert row is not None and row.status == "in_transit" and not row.attention
        await handle.terminate("test over")


async def test_staff_are_emailed_once_when_a_return_enters_the_queue(ts_env, worker, shop, settings, mailbox):
    settings.staff_alert_email = "returns-desk@shop.test"
    try:
        order = await shop.order()
        handle, answer = await start(ts_env, settings, order.number)
        tracking = tracking_of(answer)
        await scan(handle, tracking, "in_transit")
        await until(handle, lambda st: st.status == "in_transit")
        await ts_env.sleep(timedelta(days=5, hours=1))
        await until(handle, lambda st: st.attention_code == "parcel_stuck")
        for _ in range(100):
            if "staff_alert" in mailbox.kinds(handle.id):
                break
            await asyncio.sleep(0.05)
        alert = mailbox.message(handle.id, "staff_alert")
        assert alert["To"] == "returns-desk@shop.test"
        assert "no carrier scan for 5 days" in mailbox.body(handle.id, "staff_alert")
        await scan(handle, tracking, "delivered")
        await until(handle, lambda st: st.status == "received")
        await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
        assert await handle.result() == "completed"
        assert mailbox.kinds(handle.id).count("staff_alert") == 1
    finally:
        settings.staff_alert_email = None
