"""The API as `reverso api` serves it, plus one bench-only route in this instance: the bare round trip.

POST /bench/bare-returns does what POST /api/v1/returns does with Temporal (update-with-start of `submit`,
waiting for its answer) on the bare workflow, with no sign-in, no database and no-op activities.
Run by bench/portal_latency.py: uvicorn bench.portal_app:app
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from api.deps import AppSettings, TemporalClient
from api.main import create_app
from bench.bare import BareWorkflow
from domain.messages import ReturnInput, SubmitRequest
from domain.models import ReturnRequest
from workflows.return_workflow import ORDER_KEY, STATUS_KEY


def bench_app() -> FastAPI:
    app = create_app()

    @app.post("/bench/bare-returns", status_code=201, include_in_schema=False)
    async def bare_return(body: ReturnRequest, temporal: TemporalClient, settings: AppSettings) -> dict[str, Any]:
        rid = "R-BARE" + secrets.token_hex(5).upper()
        start = WithStartWorkflowOperation(
            BareWorkflow.run, ReturnInput(return_id=rid, order_number=body.order_number), id=rid,
            task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes([SearchAttributePair(ORDER_KEY, body.order_number),
                                                     SearchAttributePair(STATUS_KEY, "pending_approval")]),
        )  # fmt: skip
        answer = await temporal.execute_update_with_start_workflow(
            BareWorkflow.submit, SubmitRequest(lines=body.lines), start_workflow_operation=start
        )
        return {"id": rid, "status": answer["status"]}

    return app


app = bench_app()
