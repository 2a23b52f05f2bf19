"""Late carrier scans (issue 17, point 3): a scan counts when it happened. On the time-skipping server with the real
activities, like test_logistics.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.models import CarrierEvent, ResolveRequest
from tests.support.timeline import messages
from tests.workflows.test_exceptions import claims_released
from tests.workflows.test_logistics import start, until
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    inspect_all,
    tracking_of,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def scan_at(handle, tracking: str, event: str, occurred_at) -> None:
    await handle.signal(
        ReturnWorkflow.carrier_event,
        CarrierEvent(tracking_number=tracking, event=event, occurred_at=occurred_at, event_id=uuid.uuid4().hex),
    )


async def test_a_scan_made_before_the_expiry_that_arrives_after_it_keeps_the_return_alive(
    ts_env, worker, shop, settings, mailbox, db
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    before_expiry = await ts_env.get_current_time() + timedelta(days=13)
    await ts_env.sleep(timedelta(days=14, hours=2))
    await until(handle, lambda st: st.status == "expired")
    await scan_at(handle, tracking, "in_transit", before_expiry)
    state = await until(handle, lambda st: st.status == "in_transit")
    assert any("before the expiry, arrived late: the return goes on" in m for m in messages(state))
    await scan_at(handle, tracking, "delivered", await ts_env.get_current_time())
    await until(handle, lambda st: st.status == "received")
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"
    assert await db.shipment_status(tracking) == "delivered"


async def test_a_scan_after_the_expiry_puts_the_return_in_the_queue_and_the_warehouse_reopens_it(
    ts_env, worker, shop, settings, mailbox, db
):
    order = await shop.order(unit_price=3100)
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await ts_env.sleep(timedelta(days=20))
    await until(handle, lambda st: st.status == "expired")
    assert "expired" in mailbox.kinds(handle.id)  # the shopper hears of it at once
    await scan_at(handle, tracking, "delivered", await ts_env.get_current_time())
    state = await until(handle, lambda st: st.attention_code == "late_scan")
    assert state.status == "expired" and state.resolutions == ["reopen", "close"]
    await ts_env.sleep(timedelta(days=40))  # past late_scan_days: still waiting for a person
    state = await handle.query(ReturnWorkflow.get_state)
    assert state.attention_code == "late_scan"
    req = ResolveRequest(action="reopen", note="the box is on the shelf", by="wh-ana")
    reopened = await handle.execute_update(ReturnWorkflow.resolve, req)
    assert reopened.status == "received" and not reopened.attention
    assert reopened.timeline[-1].by == "wh-ana" and reopened.timeline[-1].note == "the box is on the shelf"
    assert await claims_released(db, handle.id) == [False]  # released at expiry, its units are held again
    await handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer))
    assert await handle.result() == "completed"


async def test_a_return_with_no_late_scan_closes_after_late_scan_days(ts_env, worker, shop, settings, db):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number)
    tracking = tracking_of(answer)
    await ts_env.sleep(timedelta(days=20))
    state = await until(handle, lambda st: st.status == "expired")
    assert await db.shipment_status(tracking) != "voided"  # a late scan can still come
    assert await handle.result() == "expired"
    assert await db.shipment_status(tracking) == "voided"
    closed = await ts_env.get_current_time()
    assert closed - state.updated_at >= timedelta(days=29)
