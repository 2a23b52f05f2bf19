"""ReturnWorkflow variants the benchmarks measure as proposals; never registered by the product's worker."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.read_model import ReadModel
    from domain.messages import ReturnInput
    from workflows.options import RETRY, TIMEOUT
    from workflows.return_workflow import ReturnWorkflow


@workflow.defn(name="ReturnWorkflowLocalProjection")
class LocalProjectionWorkflow(ReturnWorkflow):
    """The read-model writes as local activities: no task-queue round trip and no history events per write."""

    @workflow.run
    async def run(self, inp: ReturnInput) -> str:
        return await super().run(inp)

    async def _project(self) -> None:
        await workflow.execute_local_activity_method(
            ReadModel.project, self._now_state(), start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
