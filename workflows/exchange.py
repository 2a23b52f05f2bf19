"""ExchangeWorkflow: the reship of an exchange, a child of ReturnWorkflow with id `<return id>-exchange`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from activities.inventory import Inventory
    from domain.messages import ExchangeInput, ExchangeResult, LabelRequest, StockInput

ACTIVITY = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)


@workflow.defn
class ExchangeWorkflow:
    @workflow.run
    async def run(self, inp: ExchangeInput) -> ExchangeResult:
        shipped, out_of_stock = [], []
        for line in inp.lines:
            held = await workflow.execute_activity_method(
                Inventory.reserve,
                StockInput(key=f"{inp.return_id}:exchange:{line.line_id}", return_id=inp.return_id,
                           sku=line.sku, quantity=line.quantity),
                **ACTIVITY,
            )  # fmt: skip
            (shipped if held else out_of_stock).append(line.line_id)
        if not shipped:
            return ExchangeResult(shipped=[], out_of_stock=out_of_stock)
        shipment = await workflow.execute_activity_method(
            LocalCarrier.create_label,
            LabelRequest(return_id=inp.return_id, direction="outbound", ship_to=inp.ship_to),
            **ACTIVITY,
        )
        shipment.status = "shipped"
        return ExchangeResult(shipped=shipped, out_of_stock=out_of_stock, shipment=shipment)
