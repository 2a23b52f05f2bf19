"""ExchangeWorkflow: the reship of an exchange, a child of ReturnWorkflow with id `<return id>-exchange`."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from activities.inventory import Inventory
    from domain.messages import ExchangeInput, ExchangeResult, LabelRequest, StockInput
    from workflows.options import RETRY, TIMEOUT


@workflow.defn
class ExchangeWorkflow:
    @workflow.run
    async def run(self, inp: ExchangeInput) -> ExchangeResult:
        shipped: list[str] = []
        out_of_stock: list[str] = []
        for line in inp.lines:
            held = await workflow.execute_activity_method(
                Inventory.reserve,
                StockInput(key=f"{inp.return_id}:exchange:{line.line_id}", return_id=inp.return_id,
                           sku=line.sku, quantity=line.quantity),
                start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
            )  # fmt: skip
            (shipped if held else out_of_stock).append(line.line_id)
        if not shipped:
            return ExchangeResult(shipped=[], out_of_stock=out_of_stock)
        shipment = await workflow.execute_activity_method(
            LocalCarrier.create_label,
            LabelRequest(return_id=inp.return_id, direction="outbound", ship_to=inp.ship_to),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        shipment.status = "shipped"
        return ExchangeResult(shipped=shipped, out_of_stock=out_of_stock, shipment=shipment)
