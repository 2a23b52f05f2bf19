"""Exchanges, the steps the return runs around its reship child (workflows/exchange.py): price the replacements at
submit, ship at approval under a card hold (instant exchange), settle after inspection (pay a higher price first,
pay a lower one back, fall back to a refund or store credit), and give the stock and the hold back when the return
ends without a parcel.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import Inventory
    from activities.payments import Payments
    from domain import exchanges as ex
    from domain.keys import exchange_charge_key, exchange_hold_key, exchange_reserve_key
    from domain.messages import ExchangeInput, ExchangeLine, ExchangeResult, StockInput
    from domain.models import Decision, LineDecision, ReturnLineRequest
    from domain.money import format_amount
    from domain.payment_errors import HOLD_EXPIRED, HOLD_REFUSED
    from workflows.context import ReturnContext
    from workflows.exchange import ExchangeWorkflow
    from workflows.options import call
    from workflows.publish import mail, project
    from workflows.settlement import Owed
    from workflows.shipping import address_lines

# Stripe cancels an uncaptured authorization after about 7 days. A hold still open this long after it was made is
# captured in full, and what the inspection accepts is refunded from that capture (README, "Payments").
HOLD_LIFETIME = timedelta(days=6, hours=12)


async def reship(ctx: ReturnContext, lines: list[tuple[LineDecision, int]]) -> ExchangeResult:
    """Start the reship child for these lines and quantities, and wait for what it shipped."""
    state = ctx.state
    return await workflow.execute_child_workflow(
        ExchangeWorkflow.run,
        ExchangeInput(return_id=state.id,
                      lines=[ExchangeLine(line_id=x.line_id, sku=x.exchange_sku or x.sku, quantity=q) for x, q in lines],
                      ship_to=address_lines(ctx.order.shipping_address), warehouse_id=state.warehouse_id),
        id=f"{state.id}-exchange",
    )  # fmt: skip


# --- at submit -------------------------------------------------------------------------------------------


async def price_at_submit(ctx: ReturnContext, decision: Decision, requests: list[ReturnLineRequest]) -> None:
    """Reserve each replacement and put its price difference into the decision the shopper sees."""
    if not ex.exchange_lines(decision.lines):
        return
    order, policy = ctx.order, ctx.policy
    quotes = await call(
        Inventory.quote,
        ex.QuoteInput(return_id=workflow.info().workflow_id, currency=order.currency,
                      lines=[ex.QuoteLine(line_id=x.line_id, sku=x.exchange_sku or x.sku, quantity=x.quantity)
                             for x in ex.exchange_lines(decision.lines)]),
    )  # fmt: skip
    decision.add_reasons(ex.price_exchanges(decision.lines, requests, quotes, order.currency, policy))


# --- instant exchange: ship at approval, under a hold --------------------------------------------------


async def ship_instantly(ctx: ReturnContext) -> None:
    """With the policy's instant exchange, the replacement ships now: a hold for the returned items' value
    goes on the order's payment method first, and a higher price is paid before it ships. Anything that
    cannot happen (stock, a declined card) leaves the exchange to the usual reship after inspection."""
    state, book = ctx.state, ctx.exchange
    lines = [x.decision for x in state.lines if x.decision.resolution == "exchange" and x.decision.eligible]
    if not lines or not ctx.policy.instant_exchange:
        return
    if any(x.exchange_unit_price is None for x in lines):
        return
    for x in lines:
        if not await _reserve(ctx, x, x.quantity):
            ctx.log(state.status, "instant_exchange_out_of_stock", sku=x.exchange_sku or "")
            return
    if _cancelled(ctx):
        return
    hold = await call(Payments.charge, payment_input(ctx, exchange_hold_key(state.id), "hold", ex.hold_amount(lines)))
    if hold.status != "held":
        ctx.log(state.status, "instant_exchange_hold_refused", reason=hold.reason)
        return
    book.hold_key = hold.key
    ctx.payments.hold_intent = hold.provider_intent_id or ""
    state.exchange_hold = hold.amount
    ctx.payments.hold_watch = asyncio.create_task(_capture_before_lapse(ctx))  # ends once the hold is settled
    for x in lines:
        if _cancelled(ctx) or not await _charge(ctx, x, x.quantity):
            break
    if _cancelled(ctx) or any(ex.difference(x, x.quantity) > 0 and x.line_id not in book.charged for x in lines):
        async with ctx.payments.lock:
            await _settle_hold(ctx, 0, "the return was cancelled" if _cancelled(ctx) else "the charge failed",
                               "cancelled" if _cancelled(ctx) else "charge_failed")  # fmt: skip
        return
    outcome = await reship(ctx, [(x, x.quantity) for x in lines])  # a cancel from here on finds it on its way
    book.instant = outcome.shipped
    book.instant_quantity = {x.line_id: x.quantity for x in lines}
    book.outcome = outcome
    if outcome.shipment:
        state.shipments.append(outcome.shipment)
    ctx.log(state.status, "instant_exchange_shipped", amount=hold.amount)
    await project(ctx)
    await mail(ctx, "exchange_shipped", {"hold": hold.amount,
                                         "exchange_tracking": outcome.shipment.tracking_number
                                         if outcome.shipment else ""})  # fmt: skip


# --- the return ends without a parcel ------------------------------------------------------------------


async def close_unshipped(ctx: ReturnContext, status: str) -> None:
    """Cancelled, rejected or expired: the reserved stock goes back; a held card is captured, since the
    shopper keeps the replacement of an instant exchange without sending the item back."""
    state = ctx.state
    if not any(x.decision.resolution == "exchange" for x in state.lines):
        return
    await call(Inventory.release_return, state.id)
    why = f"the return was {status} with the replacement on its way"
    async with ctx.payments.lock:
        if ctx.exchange.hold_key:
            await _settle_hold(ctx, state.exchange_hold, why, f"unshipped_{status}")
    if not ctx.exchange.instant:  # nothing shipped: a lapsed hold cost nothing
        ctx.payments.uncollected = 0
    # Otherwise the shopper keeps the replacement and what a lapsed hold should have taken waits for a person
    # (workflows.resolution.await_collection).


# --- after inspection ----------------------------------------------------------------------------------


async def before_review(ctx: ReturnContext, settled: list[LineDecision]) -> None:
    """The exchanges' steps after inspection, before finance sees the amounts: what they give back or fall back to
    is part of what the return pays."""
    if ex.exchange_lines(settled):
        await settle(ctx, settled, {x.decision.line_id: x.accepted_quantity or 0 for x in ctx.state.lines})


async def settle(ctx: ReturnContext, settled: list[LineDecision], accepted: dict[str, int]) -> ExchangeResult | None:
    """Ship what can ship (paying a higher price first), pay back a lower price, fall back for the rest."""
    state, policy, book = ctx.state, ctx.policy, ctx.exchange
    lines = ex.exchange_lines(settled)
    fallen: list[LineDecision] = []
    if book.instant or book.hold_key:
        refused = sum(x.unit_price * (book.instant_quantity.get(x.line_id, 0) - accepted[x.line_id]) for x in lines)
        await _settle_after_inspection(ctx, max(refused, 0))
        shipped = [x for x in lines if x.line_id in book.instant and accepted[x.line_id] > 0]
        outcome = book.outcome
    else:
        ready: list[tuple[LineDecision, int]] = []
        for x in (x for x in lines if accepted[x.line_id] > 0):
            quantity = accepted[x.line_id]
            held = x.exchange_unit_price is not None and await _reserve(ctx, x, quantity)
            if held and await _charge(ctx, x, quantity):
                ready.append((x, quantity))
            else:
                fallen.append(x)
        outcome = await reship(ctx, ready) if ready else None
        shipped = [x for x, _ in ready if outcome and x.line_id in outcome.shipped]
        fallen += [x for x, _ in ready if x not in shipped]
        if outcome and outcome.shipment:
            state.shipments.append(outcome.shipment)
    book.outcome = outcome
    for x in shipped:
        back = -ex.difference(x, accepted[x.line_id])
        if back > 0:
            ex.give_back(x, back)
    for x in fallen:
        ex.fall_back(x, policy)
    await call(Inventory.release_return, state.id)
    if fallen:
        ctx.log(state.status, "replacement_unavailable", lines=[x.line_id for x in fallen],
                fallback=policy.exchange_fallback)  # fmt: skip
        await mail(ctx, "exchange_fallback", {"lines": [{"line_id": x.line_id, "title": x.title,
                                                          "amount": x.value} for x in fallen],
                                              "fallback": policy.exchange_fallback})  # fmt: skip
    return outcome


async def _reserve(ctx: ReturnContext, line: LineDecision, quantity: int) -> bool:
    """Hold the replacement's stock (again: the reserve at submit holds it under the same key); False when gone."""
    rid = ctx.state.id
    return await call(Inventory.reserve, StockInput(key=exchange_reserve_key(rid, line.line_id), return_id=rid,
                                                    sku=line.exchange_sku or line.sku, quantity=quantity))  # fmt: skip


async def _charge(ctx: ReturnContext, line: LineDecision, quantity: int) -> bool:
    """Pay a higher price's difference before the replacement ships; False when the card says no."""
    amount = ex.difference(line, quantity)
    if amount <= 0 or line.line_id in ctx.exchange.charged:
        return True
    state = ctx.state
    paid = await call(
        Payments.charge, payment_input(ctx, exchange_charge_key(state.id, line.line_id), "charge", amount)
    )
    if paid.status != "succeeded":
        ctx.log(state.status, "difference_not_charged", line=line.line_id, reason=paid.reason)
        return False
    state.exchange_charged += paid.amount
    ctx.exchange.charged[line.line_id] = paid.amount
    ctx.log(state.status, "difference_paid", line=line.line_id, amount=paid.amount)
    return True


async def _settle_after_inspection(ctx: ReturnContext, refused: int) -> None:
    """Capture what did not come back as it left; from a hold captured early, refund the rest."""
    payments = ctx.payments
    async with payments.lock:
        if ctx.exchange.hold_key:
            await _settle_hold(ctx, refused, "the inspection", "inspection")
    if payments.hold_captured > refused:
        payments.extra.append(Owed("hold", payments.hold_captured - refused, payments.hold_intent))
    if payments.hold_lapsed:
        # What did not come back as it left is the shopper's to pay; resolution.await_collection asks for it.
        payments.uncollected = max(refused - payments.hold_captured, 0)
        if not payments.uncollected:
            ctx.calm()  # everything came back: the lapsed hold cost nothing


async def _capture_before_lapse(ctx: ReturnContext) -> None:
    """Before Stripe's authorization window ends, capture a hold still open; the inspection refunds the rest."""
    try:
        await workflow.wait_condition(lambda: not ctx.exchange.hold_key, timeout=HOLD_LIFETIME)
        return
    except TimeoutError:
        pass
    state = ctx.state
    async with ctx.payments.lock:
        amount = state.exchange_hold
        if ctx.exchange.hold_key and await _settle_hold(
            ctx, amount, "6 days, before the card's authorization ends", "authorization_ending"
        ):
            ctx.payments.hold_captured = amount
            ctx.log(state.status, "refund_from_capture")
    await project(ctx)


async def _settle_hold(ctx: ReturnContext, capture: int, why: str, after: str) -> bool:
    """Capture `capture` of the hold or release it; False when Stripe refused (the return then needs a person).
    `why` in words for staff's attention; `after` the same as a code, for the timeline."""
    state = ctx.state
    try:
        await call(Payments.settle_hold, ex.HoldSettlement(key=ctx.exchange.hold_key, capture=capture))
    except ActivityError as e:
        cause = e.cause
        if not isinstance(cause, ApplicationError) or cause.type not in (HOLD_EXPIRED, HOLD_REFUSED):
            raise
        state.exchange_hold, ctx.exchange.hold_key = 0, ""
        ctx.payments.hold_lapsed = True
        ctx.payments.uncollected = capture
        done = f"{format_amount(capture, state.currency)} not captured" if capture else "not released"
        ctx.log(state.status, "hold_not_settled", after=after)
        ctx.need_person("hold_expired", f"card hold {done} after {why}: {_stripe_said(cause)}")
        return False
    if capture > 0:
        ctx.log(state.status, "hold_captured", amount=capture, after=after)
    else:
        ctx.log(state.status, "hold_released", after=after)
    state.exchange_hold, ctx.exchange.hold_key = 0, ""
    return True


def _stripe_said(cause: ApplicationError) -> str:
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
    return str(details.get("cancellation_reason") or details.get("code") or cause.type)


def _cancelled(ctx: ReturnContext) -> bool:
    return ctx.status() == "cancelled"


def payment_input(ctx: ReturnContext, key: str, kind: str, amount: int) -> ex.PaymentInput:
    state, order = ctx.state, ctx.order
    return ex.PaymentInput(key=key, return_id=state.id, kind=kind, payment_reference=order.payment.reference,
                           amount=amount, currency=order.currency)  # fmt: skip
