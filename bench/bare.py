"""The bare baseline: ReturnWorkflow's refund path with the same messages and activity calls, no-op bodies.

Same update-with-start `submit`, the same two `carrier_event` signals and `record_inspection` update, the
same search-attribute upserts and timers, and one no-op activity call for each activity the real path
makes (claim, label, 5 read-model writes, 3 e-mails, refund), carrying a state that grows like the real
one. The read-model writes are local activities, as the real ones are, except the one made in the task that
carries the inspection update: a task-queue activity, as Reverso's are there (an update is durable only once
its task commits); `BareActivitiesWorkflow` makes them all task-queue activities (the shape before they were
local). Whatever the real workflow costs beyond this is
Reverso's own work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from domain.messages import ReturnInput, SubmitRequest
    from domain.models import CarrierEvent, Inspection
    from workflows.options import RETRY, TIMEOUT

STATUS_KEY = SearchAttributeKey.for_keyword("ReturnStatus")
ORDER_KEY = SearchAttributeKey.for_keyword("OrderNumber")


@activity.defn(name="bench_noop")
async def noop(payload: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


@workflow.defn(name="BareReturnWorkflow")
class BareWorkflow:
    @workflow.init
    def __init__(self, inp: ReturnInput) -> None:
        self.state: dict[str, Any] = {"id": inp.return_id, "order_number": inp.order_number, "status": "",
                                      "timeline": [], "shipments": []}  # fmt: skip
        self.submitted = False
        self.inspected = False

    @workflow.query
    def get_state(self) -> dict[str, Any]:
        return self.state

    @workflow.update
    async def submit(self, req: SubmitRequest) -> dict[str, Any]:
        await self._act({"lines": [x.model_dump() for x in req.lines], "order_number": self.state["order_number"]})
        self._transition("awaiting_shipment", "return requested: within the return window; auto-approved")
        await self._act({"return_id": self.state["id"], "direction": "inbound"})
        tracking = "BARE" + self.state["id"][-10:]
        self.state["shipments"].append({"tracking_number": tracking, "status": "label_created"})
        self._log(f"return label issued, tracking number {tracking}")
        await self._project()
        self.submitted = True
        return self.state

    @workflow.signal
    async def carrier_event(self, event: CarrierEvent) -> None:
        status = self.state["status"]
        if event.event == "in_transit" and status == "awaiting_shipment":
            self._transition("in_transit", "parcel scanned by the carrier")
        elif event.event == "delivered" and status in ("awaiting_shipment", "in_transit"):
            self._transition("received", "parcel delivered to the warehouse")
        else:
            return
        await self._project()

    @workflow.update
    async def record_inspection(self, inspection: Inspection) -> dict[str, Any]:
        self.inspected = True
        self._log("inspected: " + ", ".join(f"{x.line_id}: {x.accepted_quantity}" for x in inspection.lines))
        await self._act(self.state)  # written once the update's task commits, as Reverso's (workflows.publish)
        return self.state

    @record_inspection.validator
    def _validate_inspection(self, inspection: Inspection) -> None:
        if self.state["status"] != "received" or self.inspected:
            raise ValueError(f"status: the return is {self.state['status']}; this needs received")

    @workflow.run
    async def run(self, inp: ReturnInput) -> str:
        await workflow.wait_condition(lambda: self.submitted)
        await self._act({"kind": "label", "to": "bench@example.com"})
        try:
            await workflow.wait_condition(
                lambda: self.state["status"] != "awaiting_shipment", timeout=timedelta(days=7)
            )
        except TimeoutError:
            return "expired"
        await workflow.wait_condition(lambda: self.state["status"] != "in_transit")
        await self._act({"kind": "received", "to": "bench@example.com"})
        await workflow.wait_condition(lambda: self.inspected, timeout=timedelta(days=7))
        await self._act({"key": f"{inp.return_id}:refund:L1", "amount": 2500, "currency": "EUR"})
        self._transition("completed", "completed: refunded €25.00")
        await self._project()
        await self._act({"kind": "completed", "to": "bench@example.com"})
        return "completed"

    async def _act(self, payload: dict[str, Any]) -> None:
        await workflow.execute_activity(noop, payload, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)

    async def _project(self) -> None:
        await workflow.execute_local_activity(noop, self.state, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)

    def _log(self, message: str) -> None:
        timeline = self.state["timeline"]
        timeline.append({"seq": len(timeline) + 1, "at": workflow.now().isoformat(), "status": self.state["status"],
                         "message": message})  # fmt: skip

    def _transition(self, status: str, message: str) -> None:
        self.state["status"] = status
        self._log(message)
        if ORDER_KEY in workflow.info().typed_search_attributes:
            workflow.upsert_search_attributes([STATUS_KEY.value_set(status)])


@workflow.defn(name="BareActivitiesReturnWorkflow")
class BareActivitiesWorkflow(BareWorkflow):
    """The bare workflow with its read-model writes as task-queue activities, like every other call."""

    @workflow.run
    async def run(self, inp: ReturnInput) -> str:
        return await super().run(inp)

    async def _project(self) -> None:
        await self._act(self.state)
