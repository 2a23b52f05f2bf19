"""Resolution: how a return ends. After inspection (or at once for "keep it") each line is paid back as settled:
refund, store credit (with its bonus), exchange (workflows.exchanging) or nothing. A return that ends without a
parcel (rejected, cancelled, expired) voids its labels and gives back what its exchanges held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.payments import Payments
    from activities.store_credit import StoreCredits
    from domain.keys import (
        credit_key,
        exchange_hold_key,
        hold_refund_key,
        refund_key,
        resolution_key,
        shipping_refund_key,
    )
    from domain.messages import CreditInput, RefundInput
    from domain.models import LineDecision
    from domain.money import format_amount
    from domain.payment_errors import REFUND_REFUSED
    from workflows import exchanging
    from workflows.context import ReturnContext
    from workflows.options import call
    from workflows.publish import mail, project
    from workflows.settlement import PAYMENT_ACTIONS, Owed, owed, reduce_owed, shipping_due
    from workflows.shipping import void_labels


async def resolve(ctx: ReturnContext, settled: list[LineDecision]) -> None:
    """Pay each line back as settled (the exchanges' steps are done: exchanging.before_review), record it on the
    return, complete it and tell the shopper. A refund Stripe refuses leaves the return open for a person."""
    state, order, book = ctx.state, ctx.order, ctx.payments
    outcome = ctx.exchange.outcome
    accepted = {x.decision.line_id: x.accepted_quantity or 0 for x in state.lines}
    paid: dict[str, int] = {}
    for x in settled:
        if x.refund > 0:
            paid[x.line_id] = await refund(
                ctx, refund_key(state.id, x.line_id), Owed(x.line_id, x.refund, order.payment.reference)
            )
    book.shipping = shipping_due(ctx, settled)
    extra = book.extra + ([Owed("shipping", book.shipping, order.payment.reference)] if book.shipping else [])
    for more in extra:
        key = shipping_refund_key(order.number) if more.what == "shipping" else _extra_key(ctx, more)
        paid[more.what] = await refund(ctx, key, more)
    credit = sum(x.store_credit for x in settled)
    expiry = _credit_expiry(ctx)
    if credit > 0:
        granted = await call(StoreCredits.grant, CreditInput(key=credit_key(state.id), return_id=state.id,
                                                             email=state.email, currency=state.currency, amount=credit,
                                                             bonus=_bonus(settled), expires_at=expiry))  # fmt: skip
        state.store_credit_code = granted.code
    by_id = {x.line_id: x for x in settled}
    for line in state.lines:
        d = by_id[line.decision.line_id]
        line.refunded, line.credited = paid.get(d.line_id, 0), d.store_credit
        if outcome and d.line_id in outcome.shipped:
            line.exchanged_quantity = accepted[d.line_id]
    state.refund_total = sum(paid.values())
    state.store_credit_total = credit
    state.fees_total = sum(x.fee for x in settled if x.refund > 0 or x.resolution != "refund")
    if book.owed:
        await _wait_for_person(ctx)
    await await_collection(ctx)
    ctx.transition("completed", "completed", refund=state.refund_total, store_credit=state.store_credit_total,
                   exchanged=int(any(x.exchanged_quantity for x in state.lines)))  # fmt: skip
    await project(ctx)
    await mail(ctx, "completed", {
        "refund_total": state.refund_total, "fees_total": state.fees_total,
        "store_credit_total": state.store_credit_total, "store_credit_code": state.store_credit_code or "",
        "store_credit_expires": expiry.date().isoformat() if expiry and state.store_credit_total else "",
        "exchange_tracking": outcome.shipment.tracking_number if outcome and outcome.shipment else "",
    })  # fmt: skip


async def refund(ctx: ReturnContext, key: str, what: Owed) -> int:
    """Refund `what` through the ledger under `key`; what was paid. A refusal by Stripe is booked as owed."""
    state = ctx.state
    try:
        await call(Payments.refund, RefundInput(key=key, return_id=state.id, payment_reference=what.reference,
                                                amount=what.amount, currency=ctx.order.currency))  # fmt: skip
        return what.amount
    except ActivityError as e:
        cause = e.cause
        if not isinstance(cause, ApplicationError) or cause.type != REFUND_REFUSED:
            raise
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        said = f"{details.get('code', 'refused')}: {details.get('message', '')}".rstrip(": ")
        ctx.payments.owed.append(Owed(what.what, what.amount, what.reference, said))
        ctx.log(state.status, "refund_refused", amount=what.amount, what=what.what)  # a line id, shipping or hold
        return 0


async def _wait_for_person(ctx: ReturnContext) -> None:
    """The return stays where it got to, in the Exceptions queue, until staff resolve what is owed."""
    book = ctx.payments
    book.waiting = True
    _ask_person(ctx)
    await project(ctx)
    await workflow.wait_condition(lambda: not book.waiting)


def _naming(what: str) -> str:  # for staff's attention reason
    return {"shipping": "original shipping", "hold": "card hold captured"}.get(what, f"line {what}")


def _ask_person(ctx: ReturnContext) -> None:
    state = ctx.state
    refused = "; ".join(f"{_naming(x.what)}: {format_amount(x.amount, state.currency)} ({x.reason})"
                        for x in ctx.payments.owed)  # fmt: skip
    ctx.need_person("refund_refused", f"Stripe refused {format_amount(owed(ctx), state.currency)} of the refund: "
                    f"{refused}", PAYMENT_ACTIONS)  # fmt: skip


async def resolve_payment(ctx: ReturnContext, action: str, amount: int | None, by: str, note: str,
                          reference: str) -> None:  # fmt: skip
    """A person's answer to what is owed (the `resolve` update): `retry` the refused refunds now, pay them as
    `store_credit`, or record a refund made outside Reverso (`refund_outside`, with its `reference`). Pays at most
    what is owed, under keys of its own; the return completes once nothing is owed."""
    state, book = ctx.state, ctx.payments
    total = owed(ctx)
    pay = total if amount is None else min(amount, total)
    book.resolutions += 1
    seq = book.resolutions
    by, note = ctx.storable(by, "resolve.by"), ctx.storable(note, "resolve.note")
    params: dict[str, int | str]
    if action == "retry":
        refused, book.owed, left, paid = book.owed, [], pay, 0
        for x in refused:
            part = min(x.amount, left)
            if x.amount > part:
                book.owed.append(Owed(x.what, x.amount - part, x.reference, x.reason))
            if part:
                got = await refund(ctx, resolution_key(state.id, seq, x.what), Owed(x.what, part, x.reference))
                paid, left = paid + got, left - part
        state.refund_total += paid
        code, params = "refund_retried", {"amount": paid}
    elif action == "store_credit":
        granted = await call(StoreCredits.grant, CreditInput(key=resolution_key(state.id, seq, "credit"),
                                                             return_id=state.id, email=state.email,
                                                             currency=state.currency, amount=pay,
                                                             expires_at=_credit_expiry(ctx),
                                                             code=state.store_credit_code))  # fmt: skip
        reduce_owed(ctx, pay)
        state.store_credit_total += pay
        state.store_credit_code = state.store_credit_code or granted.code
        code, params = "paid_as_store_credit", {"amount": pay}  # the code is in store_credit_code, not for all readers
    elif action == "refund_outside":
        reduce_owed(ctx, pay)
        state.refund_total += pay
        code, params = "refunded_outside", {"amount": pay, "reference": ctx.storable(reference, "resolve.reference")}
    else:
        raise ValueError(f"not a payment action: {action}")
    ctx.log(state.status, code, by=by, note=note, **params)
    if owed(ctx):
        _ask_person(ctx)
    else:
        ctx.calm()
        book.waiting = False
    await project(ctx)


# --- a lapsed hold: the replacement the shopper keeps was never paid for --------------------------------


async def await_collection(ctx: ReturnContext) -> None:
    """The instant exchange's hold lapsed (Stripe cancelled it) and the shopper keeps the replacement: the return
    waits in the Exceptions queue (`hold_expired`) until finance charges it off-session (`retry`) or admin writes it
    off (`close`)."""
    book = ctx.payments
    if not book.uncollected:
        return
    book.waiting = True
    _ask_for_hold(ctx)
    await project(ctx)
    await workflow.wait_condition(lambda: not book.waiting)


def _ask_for_hold(ctx: ReturnContext, refused: str = "") -> None:
    money = format_amount(ctx.payments.uncollected, ctx.state.currency)
    why = f"; the last charge was refused ({refused})" if refused else ""
    ctx.need_person("hold_expired", f"the card hold lapsed before it could be captured: {money} for the replacement "
                    f"the shopper keeps was not taken{why}", ["retry", "close"])  # fmt: skip


async def collect_hold(ctx: ReturnContext, amount: int | None, by: str, note: str) -> None:
    """`retry` on a lapsed hold: charge what it should have taken to the order's saved payment method, off-session,
    through the exchange payments ledger under a key of this resolution's own; a refusal leaves it in the queue."""
    state, book = ctx.state, ctx.payments
    pay = book.uncollected if amount is None else min(amount, book.uncollected)
    book.resolutions += 1
    by, note = ctx.storable(by, "resolve.by"), ctx.storable(note, "resolve.note")
    key = resolution_key(state.id, book.resolutions, "hold")
    paid = await call(Payments.charge, exchanging.payment_input(ctx, key, "charge", pay))
    if paid.status == "succeeded":
        book.uncollected -= paid.amount
        ctx.log(state.status, "hold_charged_instead", by=by, note=note, amount=pay)
    else:  # shoppers read the timeline too: Stripe's words go to the staff's attention_reason only
        ctx.log(state.status, "hold_charge_refused", by=by, note=note, amount=pay)
    if book.uncollected:
        _ask_for_hold(ctx, paid.reason)
    else:
        ctx.calm()
        book.waiting = False
    await project(ctx)


def write_off_hold(ctx: ReturnContext, by: str, note: str) -> None:
    """`close` on a lapsed hold: the shop gives up what it should have taken; the return ends as it would have."""
    state, book = ctx.state, ctx.payments
    by, note = ctx.storable(by, "resolve.by"), ctx.storable(note, "resolve.note")
    ctx.log(state.status, "hold_written_off", by=by, note=note, amount=book.uncollected)
    book.uncollected = 0
    ctx.calm()
    book.waiting = False


def _extra_key(ctx: ReturnContext, what: Owed) -> str:
    assert what.what == "hold", what
    return hold_refund_key(exchange_hold_key(ctx.state.id))


async def resolve_kept(ctx: ReturnContext) -> None:
    """Keep it: every line counts as accepted in full and is paid as decided (the decision waived all fees)."""
    state = ctx.state
    for line in state.lines:
        line.accepted_quantity = line.decision.quantity
    ctx.inspected = True
    settled = [x.decision.model_copy() for x in state.lines]
    await exchanging.before_review(ctx, settled)
    await resolve(ctx, settled)


async def close_unshipped(ctx: ReturnContext, status: str) -> None:
    """Rejected, cancelled or expired: void the labels, give back what exchanges held, tell the shopper."""
    # An instant exchange's replacement is already on its way: its label stays.
    await void_labels([s for s in ctx.state.shipments if s.direction != "outbound"])
    await exchanging.close_unshipped(ctx, status)
    await await_collection(ctx)
    ctx.touch()
    await project(ctx)
    await mail(ctx, status, {"reason": ctx.reject_reason, "no_label": ctx.label_refused,
                             "expiry_days": ctx.policy.shipment_expiry_days})  # fmt: skip


def _credit_expiry(ctx: ReturnContext) -> datetime | None:
    days = ctx.policy.store_credit_expiry_days
    return workflow.now() + timedelta(days=days) if days else None


def _bonus(settled: list[LineDecision]) -> int:
    """What the policy added for choosing store credit instead of a refund."""
    return sum(max(x.store_credit - x.value, 0) for x in settled if x.resolution == "store_credit")
