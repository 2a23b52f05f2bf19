"""Saved histories of every workflow path replay on today's code; a change that breaks them regenerates them
before 1.0.0 and needs `workflow.patched()` from 1.0.0 on (README, Contributing, has the commands).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.exchange import ExchangeWorkflow
from workflows.return_workflow import ReturnWorkflow

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def test_there_is_a_history_for_each_path():
    names = {p.stem.split("__")[0] for p in HISTORIES}
    for path in ("refund_path", "no_scan_in_14_days", "approval_issues_label", "above_limit_waits",
                 "finance_denial", "store_credit", "exchange_reships"):  # fmt: skip
        assert any(path in n for n in names), f"no saved history for {path}"
    assert any(n.endswith("-exchange") for n in names), "no saved history of the exchange child"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path):
    replayer = Replayer(workflows=[ReturnWorkflow, ExchangeWorkflow], data_converter=pydantic_data_converter)
    workflow_id = path.stem.split("__")[1]
    await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, path.read_text()))
