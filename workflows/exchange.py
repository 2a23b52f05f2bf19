"""ExchangeWorkflow: the reship of an exchange, a child of ReturnWorkflow with id `<return id>-exchange`;
and the exchange steps ReturnWorkflow runs around it (price at submit, charge, instant ship under a hold,
fall back, release), kept here so the parent's own methods only call them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from activities.inventory import Inventory, exchange_key
    from activities.payments import Payments
    from domain import exchanges as ex
    from domain.messages import ExchangeInput, ExchangeLine, ExchangeResult, LabelRequest, StockInput
    from domain.models import Decision, LineDecision, ReturnLineRequest
    from domain.money import format_amount
    from workflows.options import RETRY, TIMEOUT

if TYPE_CHECKING:
    from workflows.return_workflow import ReturnWorkflow


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
            LabelRequest(
                return_id=inp.return_id, direction="outbound", ship_to=inp.ship_to, warehouse_id=inp.warehouse_id
            ),  # the reship leaves from the return's warehouse
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        # The reservation is spent; what the reserve at submit held beyond this goes back on the shelf.
        for line in inp.lines:
            if line.line_id in shipped:
                await _activity(Inventory.consume, StockInput(key=exchange_key(inp.return_id, line.line_id),
                                                              return_id=inp.return_id, sku=line.sku,
                                                              quantity=line.quantity))  # fmt: skip
        shipment.status = "shipped"
        return ExchangeResult(shipped=shipped, out_of_stock=out_of_stock, shipment=shipment)


class ExchangeBook(BaseModel):
    """What the parent workflow has done about its exchanges so far."""

    instant: list[str] = []  # line ids shipped at approval (instant exchange)
    instant_quantity: dict[str, int] = {}
    charged: dict[str, int] = {}  # line id -> difference paid, so a second attempt never counts it twice
    outcome: ExchangeResult | None = None
    hold_key: str = ""


P = TypeVar("P")
R = TypeVar("R")


async def _activity(fn: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
    return await workflow.execute_activity_method(fn, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)


# --- at submit -------------------------------------------------------------------------------------------


async def price_at_submit(wf: ReturnWorkflow, decision: Decision, requests: list[ReturnLineRequest]) -> None:
    """Reserve each replacement and put its price difference into the decision the shopper sees."""
    if not ex.exchange_lines(decision.lines):
        return
    assert wf.claim is not None
    order, policy = wf.claim.order, wf.claim.policy
    quotes = await _activity(
        Inventory.quote,
        ex.QuoteInput(return_id=workflow.info().workflow_id, currency=order.currency,
                      lines=[ex.QuoteLine(line_id=x.line_id, sku=x.exchange_sku or x.sku, quantity=x.quantity)
                             for x in ex.exchange_lines(decision.lines)]),
    )  # fmt: skip
    decision.reasons += ex.price_exchanges(decision.lines, requests, quotes, order.currency, policy)


# --- instant exchange: ship at approval, under a hold --------------------------------------------------


async def ship_instantly(wf: ReturnWorkflow) -> None:
    """With the policy's instant exchange, the replacement ships now: a hold for the returned items' value
    goes on the order's payment method first, and a higher price is paid before it ships. Anything that
    cannot happen (stock, a declined card) leaves the exchange to the usual reship after inspection."""
    state, policy = wf._now_state(), wf._policy
    lines = [x.decision for x in state.lines if x.decision.resolution == "exchange" and x.decision.eligible]
    if not lines or not policy.instant_exchange:
        return
    rid = state.id
    if any(x.exchange_unit_price is None for x in lines):
        return
    for x in lines:
        held = await _activity(
            Inventory.reserve,
            StockInput(
                key=exchange_key(rid, x.line_id), return_id=rid, sku=x.exchange_sku or x.sku, quantity=x.quantity
            ),
        )
        if not held:
            wf._log(state.status, f"instant exchange not possible: {x.exchange_sku} is out of stock")
            return
    hold = await _activity(Payments.charge, _payment(wf, f"{rid}:exchange-hold", "hold", ex.hold_amount(lines)))
    if hold.status != "held":
        wf._log(state.status, "instant exchange not possible: the card hold was declined")
        return
    wf.exchange_book.hold_key = hold.key
    state.exchange_hold = hold.amount
    for x in lines:
        if not await _charge(wf, x, x.quantity):
            await _activity(Payments.settle_hold, ex.HoldSettlement(key=hold.key, capture=0))
            state.exchange_hold, wf.exchange_book.hold_key = 0, ""
            return
    outcome = await _reship(wf, [(x, x.quantity) for x in lines])
    wf.exchange_book.instant = outcome.shipped
    wf.exchange_book.instant_quantity = {x.line_id: x.quantity for x in lines}
    wf.exchange_book.outcome = outcome
    if outcome.shipment:
        state.shipments.append(outcome.shipment)
    amount = format_amount(hold.amount, state.currency)
    wf._log(state.status, f"instant exchange shipped; {amount} held on the card until the return is inspected")
    await wf._project()
    await wf._send("exchange_shipped", {"hold": hold.amount,
                                        "exchange_tracking": outcome.shipment.tracking_number
                                        if outcome.shipment else ""})  # fmt: skip


# --- the return ends without a parcel ------------------------------------------------------------------


async def close_unshipped(wf: ReturnWorkflow, status: str) -> None:
    """Cancelled, rejected or expired: the reserved stock goes back; a held card is captured, since the
    shopper keeps the replacement of an instant exchange without sending the item back."""
    state = wf._now_state()
    if not any(x.decision.resolution == "exchange" for x in state.lines):
        return
    await _activity(Inventory.release_return, state.id)
    if wf.exchange_book.hold_key:
        await _settle_hold(wf, state.exchange_hold, f"the return {status}")


# --- after inspection ----------------------------------------------------------------------------------


async def settle(wf: ReturnWorkflow, settled: list[LineDecision], accepted: dict[str, int]) -> ExchangeResult | None:
    """Ship what can ship (paying a higher price first), pay back a lower price, fall back for the rest."""
    state, policy, book = wf._now_state(), wf._policy, wf.exchange_book
    lines = ex.exchange_lines(settled)
    fallen: list[LineDecision] = []
    if book.instant or book.hold_key:
        refused = sum(x.unit_price * (book.instant_quantity.get(x.line_id, 0) - accepted[x.line_id]) for x in lines)
        await _settle_hold(wf, max(refused, 0), "the inspection")
        shipped = [x for x in lines if x.line_id in book.instant and accepted[x.line_id] > 0]
        outcome = book.outcome
    else:
        ready: list[tuple[LineDecision, int]] = []
        for x in (x for x in lines if accepted[x.line_id] > 0):
            quantity = accepted[x.line_id]
            held = x.exchange_unit_price is not None and await _activity(
                Inventory.reserve, StockInput(key=exchange_key(state.id, x.line_id), return_id=state.id,
                                              sku=x.exchange_sku or x.sku, quantity=quantity)
            )  # fmt: skip
            if held and await _charge(wf, x, quantity):
                ready.append((x, quantity))
            else:
                fallen.append(x)
        outcome = await _reship(wf, ready) if ready else None
        shipped = [x for x, _ in ready if outcome and x.line_id in outcome.shipped]
        fallen += [x for x, _ in ready if x not in shipped]
        if outcome and outcome.shipment:
            state.shipments.append(outcome.shipment)
    for x in shipped:
        back = -ex.difference(x, accepted[x.line_id])
        if back > 0:
            ex.give_back(x, back)
    for x in fallen:
        ex.fall_back(x, policy)
    await _activity(Inventory.release_return, state.id)
    if fallen:
        what = "store credit" if policy.exchange_fallback == "store_credit" else "a refund"
        wf._log(state.status, "replacement not available for " + ", ".join(x.line_id for x in fallen) + f": {what}")
        await wf._send("exchange_fallback", {"lines": [{"line_id": x.line_id, "sku": x.exchange_sku or "",
                                                         "amount": x.value} for x in fallen],
                                             "fallback": policy.exchange_fallback})  # fmt: skip
    return outcome


async def _reship(wf: ReturnWorkflow, lines: list[tuple[LineDecision, int]]) -> ExchangeResult:
    state = wf._now_state()
    from workflows.return_workflow import _address_lines

    return await workflow.execute_child_workflow(
        ExchangeWorkflow.run,
        ExchangeInput(return_id=state.id,
                      lines=[ExchangeLine(line_id=x.line_id, sku=x.exchange_sku or x.sku, quantity=q) for x, q in lines],
                      ship_to=_address_lines(wf._order.shipping_address), warehouse_id=state.warehouse_id),
        id=f"{state.id}-exchange",
    )  # fmt: skip


async def _charge(wf: ReturnWorkflow, line: LineDecision, quantity: int) -> bool:
    """Pay a higher price's difference before the replacement ships; False when the card says no."""
    amount = ex.difference(line, quantity)
    if amount <= 0 or line.line_id in wf.exchange_book.charged:
        return True
    state = wf._now_state()
    paid = await _activity(Payments.charge, _payment(wf, f"{state.id}:exchange-charge:{line.line_id}", "charge",
                                                     amount))  # fmt: skip
    if paid.status != "succeeded":
        wf._log(state.status, f"line {line.line_id}: the price difference could not be charged ({paid.reason})")
        return False
    state.exchange_charged += paid.amount
    wf.exchange_book.charged[line.line_id] = paid.amount
    wf._log(state.status, f"line {line.line_id}: price difference of {format_amount(paid.amount, state.currency)} paid")
    return True


async def _settle_hold(wf: ReturnWorkflow, capture: int, why: str) -> None:
    state = wf._now_state()
    key = wf.exchange_book.hold_key
    await _activity(Payments.settle_hold, ex.HoldSettlement(key=key, capture=capture))
    if capture > 0:
        wf._log(state.status, f"{format_amount(capture, state.currency)} of the card hold captured after {why}")
    else:
        wf._log(state.status, f"card hold released after {why}")
    state.exchange_hold, wf.exchange_book.hold_key = 0, ""


def _payment(wf: ReturnWorkflow, key: str, kind: str, amount: int) -> ex.PaymentInput:
    state, order = wf._now_state(), wf._order
    return ex.PaymentInput(key=key, return_id=state.id, kind=kind, payment_reference=order.payment.reference,
                           amount=amount, currency=order.currency)  # fmt: skip
