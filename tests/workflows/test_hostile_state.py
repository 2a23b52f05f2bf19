"""Values PostgreSQL cannot store (NUL, a lone surrogate) that reach the workflow past the API: the return goes on to
its end, the read model follows it, staff are told which field it was, and nothing is retried forever (a projection
that failed at every attempt used to freeze the read model while the refund was paid, and grew the history by a few
events every 8 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from sqlalchemy import text
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.models import Inspection, InspectionLine, ReturnState
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    inspect_all,
    scan,
    start,
    tracking_of,
    wait_status,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = TypeVar("T")
# Before the fix these waits never ended: the projection was retried for as long as anyone waited.
PATIENCE = 60.0
# A refund path is some dozens of events; a projection retried forever adds about 3 every 8 s without end.
MOST_EVENTS = 150
LINE = {"line_id": "L1", "quantity": 1, "reason": "defective", "resolution": "refund"}


async def within(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, PATIENCE)


async def read_model(db, rid: str) -> dict:
    async with db.sessions() as s:
        row = (await s.execute(text("select status, version, attention, state from returns where id = :id"),
                               {"id": rid})).one()  # fmt: skip
    return {"status": row.status, "version": row.version, "attention": row.attention, "state": row.state}


async def agrees(db, handle: WorkflowHandle) -> tuple[ReturnState, dict]:
    """The workflow's final state and its read-model row, once the row has the workflow's last version."""
    state = await handle.query(ReturnWorkflow.get_state)
    for _ in range(200):
        row = await read_model(db, handle.id)
        if row["version"] == state.version:
            break
        await asyncio.sleep(0.05)
    assert row["version"] == state.version, "the read model stopped following the workflow"
    assert row["state"] == state.model_dump(mode="json")
    return state, row


async def bounded_history(handle: WorkflowHandle) -> None:
    events = (await handle.fetch_history()).events
    assert len(events) < MOST_EVENTS, f"{len(events)} events"


async def test_a_staff_name_the_database_cannot_store_is_cleaned_flagged_and_the_return_completes(
    ts_env: WorkflowEnvironment, worker, shop, settings, db
):
    order = await shop.order(unit_price=30000)  # above the auto-approve limit: an admin approves it
    handle, answer = await start(ts_env, settings, order.number, [LINE])
    assert answer.status == "pending_approval"
    # The API passes the staff token's name; a client of the workflow may pass anything.
    approved = await within(handle.execute_update(ReturnWorkflow.approve, "ana\x00admin"))
    assert approved.status == "awaiting_shipment"
    await scan(handle, tracking_of(approved), "delivered")
    await within(wait_status(handle, "received"))
    await within(handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer)))
    assert await within(handle.result()) == "completed"

    state, row = await agrees(db, handle)
    assert row["status"] == "completed" and row["attention"] is True
    assert state.attention and state.attention_reason == "bad_data: approve.by"
    approval = next(t for t in state.timeline if t.code == "approved")
    assert approval.by == "ana\ufffdadmin"
    await bounded_history(handle)


async def test_an_inspection_note_with_nul_straight_to_the_workflow_never_freezes_the_return(
    ts_env: WorkflowEnvironment, worker, shop, settings, db
):
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number, [LINE])
    await scan(handle, tracking_of(answer), "delivered")
    await within(wait_status(handle, "received"))
    # Built without validation, as any client of the workflow may send it.
    line = InspectionLine.model_construct(line_id="L1", accepted_quantity=1, condition="opened", restock=True,
                                          note="scratched\x00 on the back")  # fmt: skip
    hostile = Inspection.model_construct(lines=[line], inspected_by="wh-test")
    try:
        inspected = await within(handle.execute_update(ReturnWorkflow.record_inspection, hostile))
    except WorkflowUpdateFailedError as refused:
        # The workflow's own argument types refuse it (domain.text.Note): nothing was stored, the warehouse can
        # send the inspection again.
        causes, cause = [], refused.cause
        while cause is not None:
            causes.append(str(cause))
            cause = cause.cause
        assert any("note" in x and "U+0000" in x for x in causes), causes
        inspected = await within(handle.execute_update(ReturnWorkflow.record_inspection, inspect_all(answer)))
        cleaned = False
    else:
        assert inspected.lines[0].note == "scratched\ufffd on the back"
        cleaned = True
    assert await within(handle.result()) == "completed"

    state, row = await agrees(db, handle)
    assert row["status"] == "completed"
    assert (state.attention, state.attention_reason) == ((True, "bad_data: lines[0].note") if cleaned else (False, ""))
    await bounded_history(handle)
