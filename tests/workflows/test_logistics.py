"""Label validity and reissue, parcels that stop moving, returns shipped in several parcels: on the time-skipping
server with the real activities (PostgreSQL, SMTP sink), like test_return_workflow.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select, text
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.carriers.local import LocalCarrier
from db.models import ShipmentRow
from domain.messages import LabelRequest, ReturnInput, SubmitRequest
from domain.models import CarrierEvent, Inspection, InspectionLine, ReturnLineRequest, ReturnState, Shipment
from tests.support.timeline import messages, said
from tests.workflows.policy_versions import policy
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    HISTORIES,
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

LINE = {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}


async def start(
    env: WorkflowEnvironment, settings, order_number: str, parcels: int = 1
) -> tuple[WorkflowHandle, ReturnState]:
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order_number),
                                             id=rid, task_queue=settings.task_queue)  # fmt: skip
    started.append(handle)
    answer = await handle.execute_update(
        ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)], parcels=parcels)
    )
    return handle, answer


async def scan(handle: WorkflowHandle, tracking: str, event: str) -> None:
    # A new event id each time: the same kind of scan may come again later and must count.
    await handle.signal(ReturnWorkflow.carrier_event,
                        CarrierEvent(tracking_number=tracking, event=event, occurred_at=datetime.now(UTC),
                                     event_id=uuid.uuid4().hex))  # fmt: skip


async def until(handle: WorkflowHandle, check: Callable[[ReturnState], bool]) -> ReturnState:
    for _ in range(200):
        state = await handle.query(ReturnWorkflow.get_state)
        if state is not None and check(state):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"never got there; last state {state}")


async def signal_handled(handle: WorkflowHandle) -> None:
    """Until a workflow task has completed after the last signal: its handler has run."""
    for _ in range(200):
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        signalled = max(i for i, k in enumerate(kinds) if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        if EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds[signalled:]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the signal was never handled")


async def signals_handled(handle: WorkflowHandle, count: int) -> None:
    """Until `count` signals are in the history (a signal sent while a task runs is written after it) and a workflow
    task has completed after the last: their handlers have run."""
    for _ in range(200):
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        signalled = [i for i, k in enumerate(kinds) if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
        if len(signalled) >= count and EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds[signalled[-1] :]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} signals were never handled")


def inbound(state: ReturnState) -> list:
    return [s for s in state.shipments if s.direction == "inbound"]


async def label_text(db, tracking: str) -> str:
    async with db.sessions() as s:
        pdf = await s.scalar(select(ShipmentRow.label_pdf).where(ShipmentRow.tracking_number == tracking))
    return pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()


async def attention_column(db, rid: str) -> bool:
    async with db.sessions() as s:
        return bool(await s.scalar(text("select attention from returns where id = :id"), {"id": rid}))


def pdfs(mailbox, rid: str, kind: str) -> int:
    return sum(p.get_content_type() == "application/pdf" for p in mailbox.message(rid, kind).walk())


async def test_unused_label_is_voided_after_its_validity_and_a_reissue_keeps_the_expiry(
    ts_env, worker, shop, settings, mailbox, db
):
    async with policy(settings, label_validity_days=5):
        order = await shop.order()
        handle, answer = await start(ts_env, settings, order.number)
    first = tracking_of(answer)
    await ts_env.sleep(timedelta(days=5, hours=1))
    state = await until(handle, lambda st: inbound(st)[0].status == "voided")
    assert state.status == "awaiting_shipment"
    assert await db.shipment_status(first) == "voided"
    assert f"return label {first} was not used within 5 days and is void" in messages(state)[-1]
    assert "get a new label" in mailbox.body(handle.id, "label_expired")

    state = await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
    second = inbound(state)[-1].tracking_number
    assert second != first and inbound(state)[-1].status == "label_created"
    assert await db.shipment_status(second) == "label_created"
    assert f"new return label issued at the request of shopper, tracking number {second}" in messages(state)[-1]
    body = mailbox.body(handle.id, "label_reissued")
    assert second in body and "does not give more time" in body
    assert pdfs(mailbox, handle.id, "label_reissued") == 1

    # The reissue does not move the expiry: 14 days after the return was approved, not after the new label.
    assert await handle.result() == "expired"
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.timeline[-1].at - state.created_at < timedelta(days=14, hours=1)
    assert await db.shipment_status(second) == "voided"


async def test_label_reissued_before_it_expires_voids_the_old_one_and_refuses_once_shipped(
    ts_env, worker, shop, settings, mailbox, db
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    first = tracking_of(answer)
    state = await handle.execute_update(ReturnWorkflow.reissue_label, "admin-ana")
    second = inbound(state)[-1].tracking_number
    assert [s.status for s in inbound(state)] == ["voided", "label_created"]
    assert await db.shipment_status(first) == "voided"
    last = state.timeline[-1]
    assert said(state, last).startswith("new return label issued at the request of the shop") and last.by == "admin-ana"
    await scan(handle, second, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
    assert "status: the return is in_transit" in str(err.value.cause)
    await scan(handle, second, "delivered")
    await until(handle, lambda st: st.status == "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"


async def test_parcel_without_scans_becomes_an_exception_and_a_later_scan_clears_it(
    ts_env, worker, shop, settings, mailbox, db
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    assert not await attention_column(db, handle.id)
    await ts_env.sleep(timedelta(days=5, hours=1))
    state = await until(handle, lambda st: st.attention)
    assert inbound(state)[0].status == "exception" and state.status == "in_transit"
    assert f"parcel {tracking} has had no carrier scan for 5 days: marked as an exception" in messages(state)[-1]
    for _ in range(100):  # the read model follows: staff see it in the Exceptions queue
        if await attention_column(db, handle.id):
            break
        await asyncio.sleep(0.05)
    assert await attention_column(db, handle.id)
    assert tracking in mailbox.body(handle.id, "parcel_stuck")

    await scan(handle, tracking, "in_transit")
    state = await until(handle, lambda st: not st.attention)
    assert inbound(state)[0].status == "in_transit"
    assert "exception cleared" in messages(state)[-1]
    for _ in range(100):
        if not await attention_column(db, handle.id):
            break
        await asyncio.sleep(0.05)
    assert not await attention_column(db, handle.id)
    await scan(handle, tracking, "delivered")
    await until(handle, lambda st: st.status == "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"
    assert mailbox.kinds(handle.id).count("parcel_stuck") == 1


async def test_three_parcels_get_a_label_each_and_the_return_is_received_when_all_are_in(
    ts_env, worker, shop, settings, mailbox, db
):
    order = await shop.order(quantity=3)
    handle, answer = await start(ts_env, settings, order.number, parcels=3)
    labels = inbound(answer)
    assert [(s.parcel, s.parcels) for s in labels] == [(1, 3), (2, 3), (3, 3)]
    assert len({s.tracking_number for s in labels}) == 3
    assert "parcel 2/3" in await label_text(db, labels[1].tracking_number)
    for _ in range(100):
        if "label" in mailbox.kinds(handle.id):
            break
        await asyncio.sleep(0.05)
    assert pdfs(mailbox, handle.id, "label") == 3
    await scan(handle, labels[0].tracking_number, "delivered")
    state = await until(handle, lambda st: st.status == "in_transit")
    assert "parcel 1/3 delivered to the warehouse; waiting for 2 more" in messages(state)[-1]
    await scan(handle, labels[2].tracking_number, "in_transit")
    await scan(handle, labels[2].tracking_number, "delivered")
    state = await until(handle, lambda st: inbound(st)[2].status == "delivered")
    assert state.status == "in_transit"
    await scan(handle, labels[1].tracking_number, "delivered")
    await until(handle, lambda st: st.status == "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"


async def test_warehouse_closes_receiving_and_the_missing_parcel_is_logged(ts_env, worker, shop, settings, db):
    order = await shop.order(quantity=2)
    handle, answer = await start(ts_env, settings, order.number, parcels=2)
    one, two = inbound(answer)
    await scan(handle, one.tracking_number, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    await scan(handle, one.tracking_number, "delivered")
    await until(handle, lambda st: inbound(st)[0].status == "delivered")
    state = await handle.execute_update(ReturnWorkflow.close_receiving, "wh-ana")
    assert state.status == "received"
    assert messages(state)[-1] == (
        f"receiving closed by the warehouse; parcels that never arrived: 2/2 ({two.tracking_number})"
    )
    assert state.timeline[-1].by == "wh-ana"
    assert inbound(state)[1].status == "missing"
    async with db.sessions() as s:  # never used: the label is voided (refunded by a paid carrier)
        voided = await s.scalar(select(ShipmentRow.voided_at).where(ShipmentRow.tracking_number == two.tracking_number))
    assert voided is not None
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"


async def test_a_parcel_at_the_dock_still_in_transit_is_received_as_scanned(ts_env, worker, shop, settings):
    """Issue 18: the warehouse has the parcel before the carrier says it is delivered; the later scan changes
    nothing, and the inspection's outcome and photos stay on the line."""
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit")
    await until(handle, lambda st: st.status == "in_transit")
    state = await handle.execute_update(ReturnWorkflow.close_receiving, "wh-ana")
    assert state.status == "received"
    assert messages(state)[-1] == f"received at the warehouse before the carrier's delivery scan: {tracking}"
    assert state.timeline[-1].by == "wh-ana"
    assert inbound(state)[0].status == "delivered"
    for event in ("out_for_delivery", "delivered", "exception"):
        await scan(handle, tracking, event)
    await signals_handled(handle, 4)  # in_transit and these three
    after = await handle.query(ReturnWorkflow.get_state)
    assert (after.status, after.version, len(after.timeline), after.attention) == (
        "received", state.version, len(state.timeline), False)  # fmt: skip
    with pytest.raises(WorkflowUpdateFailedError):  # received already: nothing to receive
        await handle.execute_update(ReturnWorkflow.close_receiving, "wh-ana")
    photo = "ab" * 16
    inspection = Inspection(lines=[InspectionLine(line_id="L1", accepted_quantity=0, condition="new", restock=False,
                                                  outcome="wrong_item", photos=[photo])], inspected_by="wh-ana")  # fmt: skip
    state = await handle.execute_update(ReturnWorkflow.record_inspection, inspection)
    assert (state.lines[0].outcome, state.lines[0].photos) == ("wrong_item", [photo])


async def test_a_parcel_at_the_dock_before_any_scan_is_received_and_the_ship_by_date_passes_harmlessly(
    ts_env, worker, shop, settings, mailbox
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    state = await handle.execute_update(ReturnWorkflow.close_receiving, "wh-ana")
    assert state.status == "received"
    await scan(handle, tracking_of(answer), "in_transit")
    await scan(handle, tracking_of(answer), "delivered")
    await signals_handled(handle, 2)
    assert (await handle.query(ReturnWorkflow.get_state)).version == state.version
    # Past the ship-by date: the return does not expire. Half-way between two inspection reminders (every 5 days): an
    # update whose task cancels a timer that fired meanwhile strands the run on the time-skipping server
    # (temporalio/sdk-java#3088).
    await ts_env.sleep(timedelta(days=37, hours=12))
    assert (await handle.query(ReturnWorkflow.get_state)).status == "received"
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"
    assert "received" in mailbox.kinds(handle.id)


async def test_by_default_the_label_lives_as_long_as_the_return(ts_env, worker, shop, settings, mailbox, db):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    assert await handle.result() == "expired"
    kinds = mailbox.kinds(handle.id)
    assert "label_expired" not in kinds and {"label", "shipment_reminder", "expired"} <= set(kinds)
    state = await handle.query(ReturnWorkflow.get_state)
    assert [m for m in messages(state) if "void" in m] == []
    assert messages(state)[-1] == "no carrier scan within 14 days"
    assert await db.shipment_status(tracking_of(answer)) == "voided"


async def test_the_shipment_reminder_names_the_label_in_use_not_a_voided_one(ts_env, worker, shop, settings, mailbox):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    state = await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
    old, new = tracking_of(answer), inbound(state)[-1].tracking_number
    assert await handle.result() == "expired"
    body = mailbox.body(handle.id, "shipment_reminder")
    assert f"Tracking number: {new}" in body and old not in body


async def test_carrier_exception_flags_the_return_until_the_parcel_moves(ts_env, worker, shop, settings, mailbox):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit")
    await scan(handle, tracking, "exception")
    state = await until(handle, lambda st: st.attention)
    assert state.attention_reason == f"carrier reported a problem with parcel {tracking}"
    await scan(handle, tracking, "delivered")
    state = await until(handle, lambda st: st.status == "received")
    assert not state.attention and inbound(state)[0].status == "delivered"
    assert "parcel_stuck" not in mailbox.kinds(handle.id)  # the carrier told the shopper itself
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"


async def test_there_is_a_saved_history_for_each_logistics_path():
    """tests/workflows/test_replay.py replays them (README, Contributing: regenerated before 1.0.0, patched after)."""
    names = {p.name.split("__")[0] for p in HISTORIES.glob("*.json")}
    for path in ("unused_label_is_voided", "label_reissued_before", "parcel_without_scans", "three_parcels",
                 "warehouse_closes_receiving", "carrier_exception_flags", "parcel_returned_to_sender"):  # fmt: skip
        assert any(n.startswith(path) for n in names), f"no saved history for {path}"


async def test_parcel_returned_to_sender_needs_attention(ts_env, worker, shop, settings):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await scan(handle, tracking, "pre_transit")  # label data only: nothing moved, no stuck-parcel clock
    await scan(handle, tracking, "in_transit")
    await scan(handle, tracking, "returned_to_sender")
    state = await until(handle, lambda st: st.attention)
    assert state.attention_reason == f"parcel {tracking} was returned to the shopper by the carrier"
    assert state.status == "in_transit"


async def test_a_scan_that_reaches_the_workflow_before_its_label_result_still_counts(ts_env, shop, settings):
    """The label's row, and with it the tracking number a carrier webhook is routed by, exists before the workflow
    has taken the label in (and after a worker crash the two even arrive in one activation, the scan first).
    Such a scan waits for the label; it used to be dropped, leaving the parcel unseen."""
    made: asyncio.Future[Shipment] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    carrier = LocalCarrier(settings)

    @activity.defn(name="create_label")
    async def label_held_back(req: LabelRequest) -> Shipment:
        shipment = await carrier.create_label(req)
        if not made.done():
            made.set_result(shipment)
        await release.wait()
        return shipment

    queue = f"{settings.task_queue}-held-label"
    others = [a for a in worker_activities(settings) if getattr(a, "__name__", "") != "create_label"]
    async with Worker(ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=[*others, label_held_back]):
        order = await shop.order()
        rid = "R-T" + uuid.uuid4().hex[:8].upper()
        handle = await ts_env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid,
                                                    order_number=order.number), id=rid, task_queue=queue)  # fmt: skip
        started.append(handle)
        submitting = asyncio.create_task(
            handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
        )
        shipment = await asyncio.wait_for(made, 30)
        await scan(handle, shipment.tracking_number, "in_transit")
        await signal_handled(handle)
        release.set()
        await submitting
        state = await until(handle, lambda st: st.status == "in_transit")
        assert "parcel scanned by the carrier" in messages(state)
        assert inbound(state)[0].status == "in_transit"
        # Its task queue goes with this worker: left waiting, it would hold the time-skipping server's clock.
        await handle.terminate("test over")
