"""ReturnWorkflow's policy paths on the time-skipping server: "keep it" (refund without return) and the
policy version each return records. The policy in force lives in PostgreSQL, like in production."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import stripe
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.engine import get_sessionmaker
from db.policy_store import current_policy, save_policy
from domain.messages import ReturnInput, SubmitRequest
from domain.models import ReturnLineRequest
from domain.policy import PolicySettings
from tests.support.timeline import messages
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    started,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")
REFUND = {"line_id": "L1", "quantity": 1, "reason": "changed_mind", "resolution": "refund"}


class Policies:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.sessions = get_sessionmaker(settings.resolved_database_url())

    async def current(self) -> tuple[int, PolicySettings]:
        async with self.sessions.begin() as s:
            stored = await current_policy(s, self.settings.policy)
        return stored.version, stored.policy

    async def put(self, policy: PolicySettings) -> int:
        async with self.sessions.begin() as s:
            return (await save_policy(s, policy, "test", self.settings.policy)).version


@pytest_asyncio.fixture
async def policies(settings) -> AsyncIterator[Policies]:
    """Other tests share the database: the policy in force is put back afterwards (as a new version)."""
    p = Policies(settings)
    _, before = await p.current()
    yield p
    await p.put(before)


async def start(env: WorkflowEnvironment, settings, order_number: str, *lines: dict) -> tuple[WorkflowHandle, object]:
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order_number),
                                             id=rid, task_queue=settings.task_queue)  # fmt: skip
    started.append(handle)
    answer = await handle.execute_update(
        ReturnWorkflow.submit, SubmitRequest(lines=[ReturnLineRequest(**x) for x in lines])
    )
    return handle, answer


async def test_keep_it_refunds_without_label_or_inspection(ts_env, worker, shop, settings, policies, mailbox, db):
    _, policy = await policies.current()
    version = await policies.put(policy.model_copy(update={"keep_it_below": 3000, "return_shipping_fee": 450,
                                                           "restocking_fee_bps_by_reason": {"changed_mind": 1000}}))  # fmt: skip
    order = await shop.order(quantity=2, unit_price=1200)
    handle, answer = await start(ts_env, settings, order.number, REFUND)
    assert answer.decision.keep_it and answer.status == "received" and answer.shipments == []
    assert answer.policy_version == version
    assert await handle.result() == "completed"
    refunds = stripe.Refund.list(payment_intent=order.payment.reference).data
    assert [r.amount for r in refunds] == [1200]  # no restocking or shipping fee: nothing travels
    assert mailbox.kinds(handle.id) == ["completed"]
    row = await db.return_row(handle.id)
    assert row["status"] == "completed" and row["policy_version"] == version
    assert "keep it: no need to send the items back" in messages(row)[1]


async def test_the_return_is_decided_under_the_version_in_force(ts_env, worker, shop, settings, policies):
    _, policy = await policies.current()
    version = await policies.put(policy.model_copy(update={"auto_approve_limit": 100}))
    order = await shop.order()
    handle, answer = await start(ts_env, settings, order.number, REFUND)
    assert answer.status == "pending_approval" and answer.policy_version == version
    await policies.put(policy)
    # A later policy change does not move a return already decided: approve it under its own.
    approved = await handle.execute_update(ReturnWorkflow.approve, "boss")
    assert approved.policy_version == version and approved.shipments
