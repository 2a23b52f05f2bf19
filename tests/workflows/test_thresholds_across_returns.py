"""The policy's limits judge the order, not each return, on the time-skipping server with the real claim (which holds
the order's lock while it reads what the other returns hold): five one-unit returns under keep_it_below, returns
that add up past the auto-approve limit, and refunds that add up past the review threshold."""

from __future__ import annotations

import pytest
import stripe
from temporalio.testing import WorkflowEnvironment

from domain.models import RefundReview
from tests.support.timeline import messages
from tests.workflows.policy_versions import policy
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    deliver_and_inspect,
    start,
    wait_status,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONE = [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}]


async def test_five_one_unit_returns_are_not_kept_whole_under_keep_it_below(ts_env: WorkflowEnvironment, worker, shop,
                                                                            settings):  # fmt: skip
    order = await shop.order(quantity=5, unit_price=2500)
    async with policy(settings, keep_it_below=3000):
        first, kept = await start(ts_env, settings, order.number, ONE)
        later = [await start(ts_env, settings, order.number, ONE) for _ in range(4)]
    assert kept.decision.keep_it and kept.status == "received" and kept.shipments == []
    assert await first.result() == "completed"
    for _, answer in later:
        # 50.00 EUR and more with the order's other returns: these come back like any return, label and all.
        assert not answer.decision.keep_it and answer.status == "awaiting_shipment" and answer.shipments
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [2500]


async def test_returns_that_add_up_past_the_auto_approve_limit_wait_for_a_person(ts_env, worker, shop, settings):
    order = await shop.order(quantity=3, unit_price=10000)  # the auto-approve limit is 250.00
    _, one = await start(ts_env, settings, order.number, ONE)
    two, answer = await start(ts_env, settings, order.number, ONE)
    assert one.status == answer.status == "awaiting_shipment"
    await two.execute_update(ReturnWorkflow.cancel, "shopper")  # a cancelled return holds nothing any more
    _, three = await start(ts_env, settings, order.number, ONE)
    assert three.status == "awaiting_shipment"
    _, four = await start(ts_env, settings, order.number, ONE)
    assert four.status == "pending_approval"
    assert "value 100.00 EUR (300.00 EUR with the order's other returns) is above the auto-approve limit of " \
           "250.00 EUR: a person will review it" in four.decision.reasons  # fmt: skip


async def test_refunds_that_add_up_past_the_review_threshold_go_to_finance(ts_env, worker, shop, settings):
    order = await shop.order(quantity=2, unit_price=2500)
    async with policy(settings, refund_review_threshold=4000):
        first, one = await start(ts_env, settings, order.number, ONE)
        second, two = await start(ts_env, settings, order.number, ONE)
    await deliver_and_inspect(first, one)
    assert await first.result() == "completed"  # 25.00 alone is below 40.00
    await deliver_and_inspect(second, two)
    await wait_status(second, "pending_refund_review")
    state = await second.query(ReturnWorkflow.get_state)
    assert messages(state)[-1] == (
        "finance review: refund with the order's other returns is above the review threshold"
    )
    await second.execute_update(ReturnWorkflow.review_refund, RefundReview(approve=True, reviewed_by="fin"))
    assert await second.result() == "completed"
