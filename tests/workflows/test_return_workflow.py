"""Every branch of ReturnWorkflow on the time-skipping server, with real activities behind it."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import stripe
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from db.engine import get_sessionmaker
from db.models import StoreCredit, StoreCreditEntry
from domain.messages import ReturnInput, SubmitRequest
from domain.models import CarrierEvent, Inspection, InspectionLine, RefundReview, ReturnLineRequest
from tests.support.timeline import messages, said
from tests.workflows.policy_versions import policy
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


HISTORIES = Path(__file__).resolve().parents[1] / "histories"
started: list[WorkflowHandle] = []


@pytest.fixture(autouse=True)
def _orders_on_workflow_time(shop, ts_env: WorkflowEnvironment) -> None:
    shop.clock = ts_env.get_current_time


@pytest_asyncio.fixture(autouse=True)
async def _export_histories(request, ts_env: WorkflowEnvironment):
    """With REVERSO_EXPORT_HISTORIES=1, keep each test's finished histories for the replay test."""
    started.clear()
    yield
    if not os.environ.get("REVERSO_EXPORT_HISTORIES"):
        return
    name = request.node.name.removeprefix("test_")
    for i, handle in enumerate(started):
        for wid in (handle.id, f"{handle.id}-exchange"):
            try:
                history = await ts_env.client.get_workflow_handle(wid).fetch_history()
            except RPCError:
                continue  # no exchange child for this return
            suffix = "-exchange" if wid.endswith("-exchange") else ""
            # The workflow id is part of the name: replay must run under the id the history was made with.
            (HISTORIES / f"{name}-{i}{suffix}__{wid}.json").write_text(history.to_json())


async def start(
    env: WorkflowEnvironment, settings, order_number: str, lines: list[dict]
) -> tuple[WorkflowHandle, object]:
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(
        ReturnWorkflow.run,
        ReturnInput(return_id=rid, order_number=order_number),
        id=rid,
        task_queue=settings.task_queue,
    )
    started.append(handle)
    answer = await handle.execute_update(
        ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**x) for x in lines])
    )
    return handle, answer


async def scan(handle: WorkflowHandle, tracking: str, *events: str) -> None:
    for i, event in enumerate(events):
        await handle.signal(ReturnWorkflow.carrier_event,
                            CarrierEvent(tracking_number=tracking, event=event, occurred_at=datetime.now(UTC),
                                         event_id=f"evt-{i}-{event}"))  # fmt: skip


async def wait_status(handle: WorkflowHandle, status: str) -> None:
    for _ in range(200):
        state = await handle.query(ReturnWorkflow.get_state)
        if state is not None and state.status == status:
            return
        import asyncio

        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {status}; last {state.status if state else None}")


async def deliver_and_inspect(handle: WorkflowHandle, answer, accepted: int | None = None) -> None:
    await scan(handle, tracking_of(answer), "delivered")
    await wait_status(handle, "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer, accepted))


def exchange_of(quantity: int, sku: str) -> list[dict]:
    return [
        {"line_id": "L1", "quantity": quantity, "reason": "too_small", "resolution": "exchange", "exchange_sku": sku}
    ]


def tracking_of(answer) -> str:
    return next(s.tracking_number for s in answer.shipments if s.direction == "inbound")


def inspect_all(answer, accepted: int | None = None) -> Inspection:
    return Inspection(lines=[InspectionLine(line_id=x.decision.line_id, condition="new", restock=True,
                                            accepted_quantity=x.decision.quantity if accepted is None else accepted)
                             for x in answer.lines], inspected_by="wh-test")  # fmt: skip


async def test_refund_path_pays_once_and_mails_the_label(ts_env, worker, shop, settings, mailbox):
    order = await shop.order(quantity=2, unit_price=2500)
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}],
    )
    assert answer.status == "awaiting_shipment" and answer.decision.approved
    tracking = tracking_of(answer)
    await scan(handle, tracking, "in_transit", "in_transit", "delivered")
    await wait_status(handle, "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"
    refunds = stripe.Refund.list(payment_intent=order.payment.reference).data
    assert [r.amount for r in refunds] == [2500]
    kinds = mailbox.kinds(handle.id)
    assert kinds.count("label") == 1 and kinds.count("completed") == 1
    label_mail = mailbox.message(handle.id, "label")
    assert any(p.get_content_type() == "application/pdf" for p in label_mail.walk())


async def test_ineligible_line_fails_the_submit_naming_it(ts_env, worker, shop, settings):
    order = await shop.order(final_sale=True)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await start(ts_env, settings, order.number,
                    [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}])  # fmt: skip
    assert "line L1: final sale" in str(err.value.cause)


async def test_no_scan_in_14_days_expires_and_voids_the_label(ts_env, worker, shop, settings, mailbox, db):
    order = await shop.order()
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "too_big", "resolution": "refund"}],
    )
    assert await handle.result() == "expired"
    assert await db.shipment_status(tracking_of(answer)) == "voided"
    assert {"label", "shipment_reminder", "expired"} <= set(mailbox.kinds(handle.id))
    state = await handle.query(ReturnWorkflow.get_state)
    assert "no carrier scan within 14 days" in messages(state)[-1]


async def test_above_limit_waits_for_approval_then_reject(ts_env, worker, shop, settings, mailbox):
    order = await shop.order(unit_price=30000)
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "too_big", "resolution": "refund"}],
    )
    assert answer.status == "pending_approval" and not answer.decision.approved
    assert answer.shipments == []
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    await handle.execute_update(ReturnWorkflow.reject, "worn item")
    assert await handle.result() == "rejected"
    assert "worn item" in mailbox.body(handle.id, "rejected")


async def test_approval_issues_label_and_cancel_voids_it(ts_env, worker, shop, settings, db):
    order = await shop.order(unit_price=30000)
    handle, _ = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "too_big", "resolution": "refund"}],
    )
    approved = await handle.execute_update(ReturnWorkflow.approve, "boss")
    assert approved.status == "awaiting_shipment" and approved.shipments
    cancelled = await handle.execute_update(ReturnWorkflow.cancel, "shopper")
    assert cancelled.status == "cancelled"
    assert await handle.result() == "cancelled"
    assert await db.shipment_status(approved.shipments[0].tracking_number) == "voided"
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # a closed workflow takes no updates
        await handle.execute_update(ReturnWorkflow.cancel, "shopper")


async def test_refused_line_goes_to_finance_who_adjusts_the_amount(ts_env, worker, shop, settings):
    order = await shop.order(quantity=2, unit_price=4000)
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 2, "reason": "defective", "resolution": "refund"}],
    )
    await scan(handle, tracking_of(answer), "delivered")
    await wait_status(handle, "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer, accepted=1))
    await wait_status(handle, "pending_refund_review")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True, amount=4001))
    assert "amount: 4001 is more than the 4000" in str(err.value.cause)
    await handle.execute_update(
        ReturnWorkflow.review_refund, RefundReview(approve=True, amount=3500, reviewed_by="fin")
    )
    assert await handle.result() == "completed"
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [3500]
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.refund_total == 3500
    approved = next(t for t in state.timeline if t.code == "refund_approved")
    assert said(state, approved) == "refund of 35.00 EUR approved by the shop" and approved.by == "fin"


async def test_finance_denial_pays_nothing(ts_env, worker, shop, settings):
    order = await shop.order(unit_price=60000)
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "defective", "resolution": "refund"}],
    )
    await handle.execute_update(ReturnWorkflow.approve, "boss")
    await scan(handle, tracking_of(await handle.query(ReturnWorkflow.get_state)), "in_transit", "delivered")
    await wait_status(handle, "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    await wait_status(handle, "pending_refund_review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=False, note="used"))
    assert await handle.result() == "completed"
    assert stripe.Refund.list(payment_intent=order.payment.reference).data == []


async def test_store_credit_goes_into_the_ledger(ts_env, worker, shop, settings, db, mailbox):
    order = await shop.order(unit_price=2000)
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "changed_mind", "resolution": "store_credit"}],
    )
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.store_credit_code and state.store_credit_total == 2000
    assert await db.credit_balance(state.store_credit_code) == 2000
    assert state.store_credit_code in mailbox.body(handle.id, "completed")


async def test_exchange_reships_and_falls_back_to_refund_when_out_of_stock(ts_env, worker, shop, settings, db):
    await shop.inventory("TEE-L", available=1)
    order = await shop.order(quantity=2, unit_price=2500)
    handle, answer = await start(ts_env, settings, order.number, exchange_of(2, "TEE-L"))
    await deliver_and_inspect(handle, answer, accepted=1)
    # one accepted: one replacement reserved and shipped
    await wait_status(handle, "pending_refund_review")
    await handle.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True))
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    outbound = [s for s in state.shipments if s.direction == "outbound"]
    assert len(outbound) == 1 and state.lines[0].exchanged_quantity == 1
    assert await db.available("TEE-L") == 0
    # stock is gone now: the next exchange is refunded instead
    order2 = await shop.order(quantity=1, unit_price=2500)
    handle2, answer2 = await start(ts_env, settings, order2.number, exchange_of(1, "TEE-L"))
    await deliver_and_inspect(handle2, answer2)
    assert await handle2.result() == "completed"
    assert [r.amount for r in stripe.Refund.list(payment_intent=order2.payment.reference).data] == [2500]


async def test_read_model_follows_every_transition(ts_env, worker, shop, settings, db):
    order = await shop.order()
    handle, answer = await start(
        ts_env,
        settings,
        order.number,
        [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}],
    )
    assert (await db.return_row(handle.id))["status"] == "awaiting_shipment"
    await scan(handle, tracking_of(answer), "in_transit")
    await wait_status(handle, "in_transit")
    for _ in range(100):
        if (await db.return_row(handle.id))["status"] == "in_transit":
            break
    row = await db.return_row(handle.id)
    assert row["status"] == "in_transit"
    assert [t["status"] for t in row["timeline"]][-1] == "in_transit"


_ = timedelta


async def test_a_start_whose_submit_never_came_closes_itself_and_a_late_one_still_counts(
    ts_env, worker, shop, settings
):
    """Update-with-start can keep the start and lose the submit (the engine restarted mid-call; the shopper was told
    to retry). Such a return holds nothing and must not wait forever; a submit that is merely slow still works."""
    order = await shop.order()
    lost_id = "R-TLOST" + uuid.uuid4().hex[:6].upper()
    lost = await ts_env.client.start_workflow(
        ReturnWorkflow.run, ReturnInput(return_id=lost_id, order_number=order.number), id=lost_id,
        task_queue=settings.task_queue,
    )  # fmt: skip
    assert await lost.result() == "abandoned"
    assert await lost.query(ReturnWorkflow.get_state) is None

    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    slow = await ts_env.client.start_workflow(
        ReturnWorkflow.run,
        ReturnInput(return_id=rid, order_number=order.number),
        id=rid,
        task_queue=settings.task_queue,
    )
    await ts_env.sleep(timedelta(minutes=50))
    answer = await slow.execute_update(
        ReturnWorkflow.submit,
        SubmitRequest(lines=[ReturnLineRequest(line_id="L1", quantity=1, reason="too_big", resolution="refund")]),
    )
    assert answer.status == "awaiting_shipment"


async def test_store_credit_bonus_is_its_own_entry_and_the_credit_expires(ts_env, worker, shop, settings, mailbox):
    order = await shop.order(unit_price=2000)
    async with policy(settings, store_credit_bonus_bps=1000, store_credit_expiry_days=180):
        handle, answer = await start(ts_env, settings, order.number,
                                     [{"line_id": "L1", "quantity": 1, "reason": "too_big", "resolution": "store_credit"}])  # fmt: skip
    await deliver_and_inspect(handle, answer)
    assert await handle.result() == "completed"
    state = await handle.query(ReturnWorkflow.get_state)
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        credit = await s.get(StoreCredit, state.store_credit_code)
        entries = {
            e.kind: e.amount
            for e in await s.scalars(select(StoreCreditEntry).where(StoreCreditEntry.code == credit.code))
        }
    assert entries == {"grant": 2000, "bonus": 200} and credit.balance == sum(entries.values()) == 2200
    completed_at = state.updated_at
    assert credit.expires_at.date() == (completed_at + timedelta(days=180)).date()
    last_day = credit.expires_at.date()  # in words, as English writes a day (issue 19)
    assert f"valid until {last_day.day} {last_day.strftime('%B')} {last_day.year}" in mailbox.body(
        handle.id, "completed"
    )
