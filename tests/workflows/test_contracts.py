"""workflows.contracts is enough to drive a return (the API's way, without importing the workflow or any activity),
and domain.keys builds the very keys the ledgers already hold."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain import keys
from domain.models import ReturnLineRequest
from tests.workflows.test_return_workflow import _orders_on_workflow_time  # noqa: F401  (autouse)
from workflows import contracts as c
from workflows.exchange import ExchangeWorkflow
from workflows.return_workflow import ReturnWorkflow

ROOT = Path(__file__).resolve().parents[2]


def test_the_names_are_the_workflows_own():
    defn = workflow._Definition.must_from_class(ReturnWorkflow)
    assert defn.name == c.RETURN_WORKFLOW
    assert workflow._Definition.must_from_class(ExchangeWorkflow).name == c.EXCHANGE_WORKFLOW
    assert set(defn.updates) == set(c.UPDATE_RESULTS)
    assert set(defn.signals) == {c.CARRIER_EVENT}
    assert set(defn.queries) == {c.GET_STATE}


def test_contracts_load_no_activity_and_no_workflow_code():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, workflows.contracts; print(' '.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert [m for m in loaded if m.startswith(("activities", "workflows.", "stripe", "easypost", "reportlab"))] == [
        "workflows.contracts"
    ]


def test_every_workflow_module_imports_alone():
    """No import circle: each module loads first, in a fresh interpreter."""
    for path in sorted((ROOT / "workflows").glob("*.py")):
        name = f"workflows.{path.stem}"
        done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"{name}: {done.stderr[-400:]}"


def test_keys_keep_the_shape_the_ledgers_hold():
    assert keys.refund_key("R-1", "L1") == "R-1:refund:L1"
    assert keys.credit_key("R-1") == "R-1:credit"
    assert keys.credit_bonus_key("R-1:credit") == "R-1:credit:bonus"
    assert keys.exchange_reserve_key("R-1", "L1") == "R-1:exchange:L1"
    assert keys.exchange_hold_key("R-1") == "R-1:exchange-hold"
    assert keys.exchange_charge_key("R-1", "L1") == "R-1:exchange-charge:L1"
    assert keys.hold_settlement_key("R-1:exchange-hold", True) == "R-1:exchange-hold:capture"
    assert keys.hold_settlement_key("R-1:exchange-hold", False) == "R-1:exchange-hold:release"
    assert keys.email_key("R-1", "label") == "R-1:label"
    assert keys.email_key("R-1", "label_reissued", "g2") == "R-1:label_reissued:g2"
    assert keys.label_purchase_key("R-1", "inbound", 1) == "R-1:inbound"
    assert keys.label_purchase_key("R-1", "inbound", 3) == "R-1:inbound:3"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_return_runs_on_the_contract_names_alone(ts_env, worker, shop, settings, mailbox):
    order = await shop.order(quantity=2, unit_price=2500)
    rid = "R-T" + uuid.uuid4().hex[:8].upper()
    handle = await ts_env.client.start_workflow(
        c.RETURN_WORKFLOW, c.ReturnInput(return_id=rid, order_number=order.number), id=rid,
        task_queue=settings.task_queue, result_type=str,
    )  # fmt: skip
    line = ReturnLineRequest(line_id="L1", quantity=1, reason="too_small", resolution="refund")
    answer = await handle.execute_update(
        c.SUBMIT, c.SubmitRequest(lines=[line]), result_type=c.UPDATE_RESULTS[c.SUBMIT]
    )
    assert isinstance(answer, c.SubmitAnswer) and answer.status == "awaiting_shipment"
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(c.SUBMIT, c.SubmitRequest(lines=[line]), result_type=c.SubmitAnswer)
    assert isinstance(again.value.cause, ApplicationError) and again.value.cause.message == c.ALREADY_SUBMITTED
    tracking = answer.shipments[0].tracking_number
    event = c.CarrierEvent(tracking_number=tracking, event="in_transit", occurred_at=datetime.now(UTC), event_id="e1")
    await handle.signal(c.CARRIER_EVENT, event)
    for _ in range(200):
        state = await handle.query(c.GET_STATE, result_type=c.ReturnState)
        if state.status == "in_transit":
            break
        await asyncio.sleep(0.05)
    assert state.status == "in_transit" and state.shipments[0].status == "in_transit"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(c.CANCEL, "shopper", result_type=c.ReturnState)
    assert "in_transit" in str(refused.value.cause)
