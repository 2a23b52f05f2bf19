"""ExchangeWorkflow: the reship of an exchange, a child of ReturnWorkflow with id `<return id>-exchange`
(started by workflows.exchanging.reship): hold each replacement, make the outbound label, spend the holds."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from activities.inventory import Inventory
    from domain.keys import exchange_reserve_key
    from domain.messages import ExchangeInput, ExchangeResult, LabelRequest, StockInput
    from workflows.options import call


@workflow.defn
class ExchangeWorkflow:
    @workflow.run
    async def run(self, inp: ExchangeInput) -> ExchangeResult:
        stock = [StockInput(key=exchange_reserve_key(inp.return_id, x.line_id), return_id=inp.return_id, sku=x.sku,
                            quantity=x.quantity) for x in inp.lines]  # fmt: skip
        shipped: list[str] = []
        out_of_stock: list[str] = []
        for line, hold in zip(inp.lines, stock, strict=True):
            (shipped if await call(Inventory.reserve, hold) else out_of_stock).append(line.line_id)
        if not shipped:
            return ExchangeResult(shipped=[], out_of_stock=out_of_stock)
        shipment = await call(
            LocalCarrier.create_label,
            LabelRequest(
                return_id=inp.return_id, direction="outbound", ship_to=inp.ship_to, warehouse_id=inp.warehouse_id
            ),  # the reship leaves from the return's warehouse
        )
        # The reservation is spent; what the reserve at submit held beyond this goes back on the shelf.
        for line, hold in zip(inp.lines, stock, strict=True):
            if line.line_id in shipped:
                await call(Inventory.consume, hold)
        shipment.status = "shipped"
        return ExchangeResult(shipped=shipped, out_of_stock=out_of_stock, shipment=shipment)
