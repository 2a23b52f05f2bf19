"""New labels are limited to the policy's label_reissues_per_day in any 24 hours, counted by the workflow: 15 reissues
of a 10-parcel return in 15 s made 160 labels (each bought again from a carrier API), 16 e-mails and a history of
2,097 events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.test_logistics import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    inbound,
    start,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

DAY = timedelta(hours=24)
RATE_LIMITED = "RateLimited"  # workflows.logistics.RATE_LIMITED, which the API turns into 429


def refusal(err: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> ApplicationError:
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == RATE_LIMITED, cause
    return cause


async def test_a_fourth_new_label_within_24_hours_is_refused_until_the_first_ages_out(
    ts_env: WorkflowEnvironment, worker, shop, settings, mailbox
):
    order = await shop.order()
    handle, _ = await start(ts_env, settings, order.number, parcels=3)
    for _ in range(3):
        state = await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
        await ts_env.sleep(timedelta(hours=1))
    first_at = next(t.at for t in state.timeline if t.code.startswith("label_reissued"))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
    refused = refusal(err)
    assert refused.message.startswith("label: new labels were issued 3 times in the last 24 hours")
    wait, again = refused.details
    # The first reissue was about 3 hours ago: it counts for about 21 more.
    assert timedelta(hours=20, minutes=59) < timedelta(seconds=wait) <= timedelta(hours=21)
    assert again.startswith((first_at + DAY).date().isoformat())
    after = await handle.query(ReturnWorkflow.get_state)
    assert len(inbound(after)) == 3 * 4  # the first labels and three reissues, nothing more was made
    assert mailbox.kinds(handle.id).count("label_reissued") == 3

    await ts_env.sleep(timedelta(seconds=wait))
    state = await handle.execute_update(ReturnWorkflow.reissue_label, "shopper")
    assert len(inbound(state)) == 3 * 5 and [s.status for s in inbound(state)][-3:] == ["label_created"] * 3


async def test_a_burst_of_new_label_requests_makes_only_what_the_policy_allows(
    ts_env: WorkflowEnvironment, worker, shop, settings
):
    order = await shop.order()
    handle, _ = await start(ts_env, settings, order.number, parcels=2)
    # Sent together, several land in one workflow task: each validator ran before any reissue was counted.
    results = await asyncio.gather(
        *(handle.execute_update(ReturnWorkflow.reissue_label, "shopper") for _ in range(8)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(refused) == 5 and all(isinstance(r.cause, ApplicationError) and r.cause.type == RATE_LIMITED
                                     for r in refused)  # fmt: skip
    state = await handle.query(ReturnWorkflow.get_state)
    assert len(inbound(state)) == 2 * 4
    assert sum(t.code.startswith("label_reissued") for t in state.timeline) == 3
    assert len((await handle.fetch_history()).events) < 300
