"""The read model tells the truth (issue 17): an update is durable only once the workflow task that runs its handler
completes, so the read model never shows what such a task did until then; when the task is lost, it shows nothing of
it, and once the update goes through it equals the workflow's state.

On the dev server (a time-skipping server does not deliver updates to a retried workflow task the same way), with a
worker whose test-only interceptor loses the workflow task that writes the read model while `LOSE` is on: the write
runs as it would (a local activity reaches PostgreSQL), then the task fails, as when the engine restarts or the
worker dies before completing it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    Interceptor,
    Replayer,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import CarrierEvent, Inspection, InspectionLine, ReturnLineRequest, ReturnState
from tests.conftest import _beside_python
from worker import build_worker
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINE = {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}
T = TypeVar("T")


class Lose:
    """Shared with the workflow sandbox (the interceptor's class comes from this module): whether to lose the next
    workflow tasks that write the read model, and how many were lost."""

    on = False
    lost = 0


class TaskLost(RuntimeError):
    """Not a Temporal failure: raised in workflow code, it fails the workflow task, which the server retries."""


async def _then_lose(handle: ActivityHandle[Any]) -> Any:
    await handle  # the local activity has written PostgreSQL
    Lose.lost += 1
    raise TaskLost("test: the workflow task is lost after its read-model write")


class _Outbound(WorkflowOutboundInterceptor):
    def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle[Any]:
        handle = super().start_local_activity(input)
        if Lose.on and input.activity == "project_return" and not workflow.unsafe.is_replaying():
            return asyncio.ensure_future(_then_lose(handle))  # type: ignore[return-value]
        return handle

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        if Lose.on and input.activity == "project_return" and not workflow.unsafe.is_replaying():
            Lose.lost += 1  # a regular activity is only scheduled by the task's completion: nothing was sent
            raise TaskLost("test: the workflow task is lost before it scheduled its read-model write")
        return super().start_activity(input)


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class LoseTasks(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Inbound


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_env():
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=_beside_python("temporal")
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def losing_worker(dev_env, settings):
    async with build_worker(dev_env.client, settings, interceptors=[LoseTasks()]):
        yield


async def eventually(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str, limit: float = 90) -> T:
    """Probe until `check` holds (a condition, not a guess at how long it takes)."""
    give_up = time.monotonic() + limit
    while True:
        seen = await probe()
        if check(seen):
            return seen
        assert time.monotonic() < give_up, f"{what}: last seen {seen!r}"[:2000]
        await asyncio.sleep(0.1)


def again(handle: WorkflowHandle[Any, Any], update: Any, arg: Any) -> Callable[[], Awaitable[ReturnState | None]]:
    """The update sent again, as the API's caller does after its 503; None while the workflow's task is still being
    tried again."""

    async def send() -> ReturnState | None:
        try:
            return await handle.execute_update(update, arg)
        except RPCError as e:
            if e.status != RPCStatusCode.FAILED_PRECONDITION:
                raise
            return None

    return send


async def lost() -> int:
    return Lose.lost


async def accepted_updates(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events)


async def settled(handle: WorkflowHandle[Any, Any], db) -> ReturnState:
    """The workflow's state once nothing is left to run and the read model shows it."""

    async def both() -> tuple[ReturnState, ReturnState | None, int]:
        state = await handle.query(ReturnWorkflow.get_state)
        row = await db.return_row(handle.id)
        pending = len((await handle.describe()).raw_description.pending_activities)
        return state, ReturnState.model_validate(row), pending

    state, _, _ = await eventually(both, lambda x: x[2] == 0 and x[0] == x[1], "read model equal to the workflow")
    return state


async def started(dev_env, shop, settings) -> tuple[WorkflowHandle[Any, Any], SubmitAnswer]:
    order = await shop.order()
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await dev_env.client.start_workflow(
        ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order.number), id=rid,
        task_queue=settings.task_queue, task_timeout=timedelta(seconds=3),  # a lost task is tried again sooner
    )  # fmt: skip
    answer = await handle.execute_update(ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**LINE)]))
    assert answer.status == "awaiting_shipment"
    return handle, answer


async def lost_then_through(handle: WorkflowHandle[Any, Any], db, update: Any, arg: Any) -> ReturnState:
    """Send `update` while its workflow task is lost after the read-model write; the read model must not change.
    Then let it through (sent again if the server gave it up with its task): its answer."""
    before = await settled(handle, db)
    accepted = await accepted_updates(handle)
    Lose.on, Lose.lost = True, 0
    try:
        sent = asyncio.ensure_future(handle.execute_update(update, arg))
        # Lost once, and again when the server tried the task again at once.
        await eventually(lost, lambda n: n >= 2, "the update's task lost twice")
        row = await db.return_row(handle.id)
        assert await accepted_updates(handle) == accepted, "the update was never committed"
        assert ReturnState.model_validate(row) == before, "the read model shows an update the workflow never made"
    finally:
        Lose.on = False
    try:
        done = await asyncio.wait_for(sent, 90)
    except RPCError:  # the server gave the update up with its task ("in failed state"): the caller tries again
        done = await eventually(again(handle, update, arg), lambda x: x is not None, "the update sent again")
    assert done is not None
    return done


async def replays(handle: WorkflowHandle[Any, Any]) -> None:
    """Which write is local and which is not is decided the same way when the workflow replays its history, failed
    tasks and all (else the replay of any return that took an update would fail as nondeterministic)."""
    replayer = Replayer(workflows=[ReturnWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_a_cancel_whose_workflow_task_is_lost_never_shows_in_the_read_model_until_it_goes_through(
    dev_env, losing_worker, shop, settings, db
):
    handle, _ = await started(dev_env, shop, settings)
    done = await lost_then_through(handle, db, ReturnWorkflow.cancel, "shopper")
    assert done.status == "cancelled"
    assert await asyncio.wait_for(handle.result(), 90) == "cancelled"
    after = await settled(handle, db)
    assert after.status == "cancelled" and [t.code for t in after.timeline].count("cancelled_by_shopper") == 1
    await replays(handle)


async def test_an_inspection_whose_workflow_task_is_lost_never_shows_until_it_goes_through(
    dev_env, losing_worker, shop, settings, db
):
    handle, answer = await started(dev_env, shop, settings)
    await handle.signal(ReturnWorkflow.carrier_event, CarrierEvent(
        tracking_number=answer.shipments[0].tracking_number, event="delivered", occurred_at=datetime.now(UTC),
        event_id=uuid.uuid4().hex))  # fmt: skip
    await eventually(lambda: db.return_row(handle.id), lambda row: row["status"] == "received", "received")
    inspection = Inspection(lines=[InspectionLine(line_id="L1", condition="new", restock=True, accepted_quantity=1)],
                            inspected_by="wh-test")  # fmt: skip
    done = await lost_then_through(handle, db, ReturnWorkflow.record_inspection, inspection)
    assert done.lines[0].accepted_quantity == 1
    assert await asyncio.wait_for(handle.result(), 90) == "completed"
    after = await settled(handle, db)
    assert [t.code for t in after.timeline].count("inspected") == 1 and after.refund_total == 2500
    await replays(handle)
