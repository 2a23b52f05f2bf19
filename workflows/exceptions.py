"""A person's decisions on a parcel that cannot go on by itself (the Exceptions queue, issue 17's table): pay as filed
without the parcel (`refund_without_receipt`), end the return with nothing more paid (`close`), or take in an
expired return whose parcel did arrive after all (`reopen`). The payment actions are workflows.resolution's.

Each handler runs inside the `resolve` update; what needs the run loop (paying, ending the return) is handed to the
stage that waits for the parcel in transit (tracking.await_delivery) through ReturnContext.decided, so a payment
Stripe refuses can wait for the next person's action without holding this update open. An expired return with a
late scan is reopened or closed here directly: shipping's wait after the expiry (shipping._late_scans) sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.exchanging as exchanging
    import workflows.resolution as resolution
    from activities.read_model import ReadModel
    from domain import policy as rules
    from domain.models import ResolveAction, ResolveRequest
    from workflows.context import ReturnContext
    from workflows.contracts import AmountTooLarge
    from workflows.options import call
    from workflows.publish import project
    from workflows.shipping import void_labels

WITHOUT_PARCEL: list[ResolveAction] = ["refund_without_receipt", "close"]


def fitting(ctx: ReturnContext) -> list[ResolveAction]:
    """The actions of this module that fit the return now (ReturnState.resolutions for the parcel codes)."""
    state = ctx.state
    if ctx.decided is not None:
        return []
    # Before a first scan the shopper or the shop can still cancel: these fit once the parcel is on its way.
    if state.status == "in_transit":
        return list(WITHOUT_PARCEL)
    if state.status == "expired" and ctx.parcels.late:
        return ["reopen", "close"]
    return []


def filed(ctx: ReturnContext) -> int:
    """What the return pays back as filed: its refund and store credit before inspection."""
    return sum(x.decision.refund + x.decision.store_credit for x in ctx.state.lines)


async def _decide(ctx: ReturnContext, req: ResolveRequest) -> None:
    """refund_without_receipt and close: recorded now, carried out by the stage waiting for the parcel."""
    state = ctx.state
    if req.action == "refund_without_receipt" and req.amount is not None and req.amount > filed(ctx):
        raise AmountTooLarge(f"amount: {req.amount} is more than the {filed(ctx)} this return pays back as filed")
    by, note = ctx.storable(req.by, "resolve.by"), ctx.storable(req.note, "resolve.note")
    if req.action == "close":
        ctx.log(state.status, "closed_unpaid", by=by, note=note)
    else:
        pays = filed(ctx) if req.amount is None else req.amount
        ctx.log(state.status, "refund_without_receipt", by=by, note=note, amount=pays)
    ctx.decided = (req.action, req.amount)
    ctx.calm()
    await project(ctx)
    # Answer with the return as it is once the payment has gone through (or waits for a person again).
    await workflow.wait_condition(lambda: state.status == "completed" or ctx.payments.waiting)


async def carry_out(ctx: ReturnContext) -> None:
    """The decision in ReturnContext.decided, from the run loop: the return ends `completed`."""
    assert ctx.decided is not None
    action, amount = ctx.decided
    state = ctx.state
    # Labels never used are refunded by their carrier; a scanned one is spent.
    unused = [s for s in ctx.valid_labels() if s.status == "label_created"]
    await void_labels(unused)
    if unused:
        ctx.log(state.status, "unused_labels_voided", tracking_numbers=[s.tracking_number for s in unused])
    if action == "close":
        state.refund_total = state.store_credit_total = 0  # what it paid: the amounts filed were never paid
        await _close_in_transit(ctx)
        ctx.transition("completed", "completed_closed")
        await project(ctx)
        return
    for line in state.lines:
        line.accepted_quantity = line.decision.quantity
    ctx.inspected = True
    settled = [x.decision.model_copy() for x in state.lines]
    await exchanging.before_review(ctx, settled)
    if amount is not None:
        settled = rules.apply_review_amount(settled, amount)
    await resolution.resolve(ctx, settled)


async def _close_in_transit(ctx: ReturnContext) -> None:
    """What a return closed without its parcel gives back: the order's units it claimed (unless a parcel of it did
    arrive: the warehouse has goods of it, and which units is not known), the stock reserved for its exchanges, and
    an instant exchange's hold, settled as for any return that never comes back (captured: the shopper keeps the
    replacement; a hold that lapsed waits for a person, resolution.await_collection)."""
    state = ctx.state
    delivered = [s.tracking_number for s in ctx.inbound() if s.status == "delivered"]
    if delivered:
        ctx.log(state.status, "units_stay_claimed", tracking_numbers=delivered)
    else:
        await call(ReadModel.release_claims, state.id)
        ctx.log(state.status, "units_released")
    await exchanging.close_unshipped(ctx, "closed")
    await resolution.await_collection(ctx)


async def _reopen(ctx: ReturnContext, req: ResolveRequest) -> None:
    """The expired return's parcel arrived: it is received, and inspection follows as for any other."""
    by, note = ctx.storable(req.by, "resolve.by"), ctx.storable(req.note, "resolve.note")
    ctx.parcels.late = False
    ctx.calm()
    ctx.transition("received", "reopened", by=by)
    ctx.state.timeline[-1].note = note
    await project(ctx)


async def _close_expired(ctx: ReturnContext, req: ResolveRequest) -> None:
    if ctx.state.status == "expired":  # a late scan nobody takes in: it ends as it would have, unpaid
        by, note = ctx.storable(req.by, "resolve.by"), ctx.storable(req.note, "resolve.note")
        ctx.log("expired", "closed_unpaid", by=by, note=note)
        ctx.parcels.late = False
        ctx.calm()
        await project(ctx)
        return
    await _decide(ctx, req)


HANDLERS: dict[str, Callable[[ReturnContext, ResolveRequest], Awaitable[None]]] = {
    "refund_without_receipt": _decide,
    "close": _close_expired,
    "reopen": _reopen,
}
