"""What a return still owes the shopper once Stripe has said no, and the other books of its money: the amounts after
the exchange steps (what finance reviews), refunds Stripe refused, the instant exchange's hold, the order's shipping.

Kept on ReturnContext.payments. Pure bookkeeping: the payments themselves are made by workflows.resolution
(refunds, credit, a person's resolution) and workflows.exchanging (charges, the hold). This module imports no
workflow module at run time, so workflows.context can hold a PaymentBook.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import LineDecision, ResolveAction

if TYPE_CHECKING:
    from workflows.context import ReturnContext

# Staff's actions on a payment Stripe refused (issue 17's table): try again, pay it as store credit, or record a
# refund made by hand outside Reverso.
PAYMENT_ACTIONS: tuple[ResolveAction, ...] = ("retry", "store_credit", "refund_outside")


@dataclass
class Owed:
    """A refund not (yet) paid: Stripe refused it, or it waits to be paid with the others."""

    what: str  # a line id, "shipping" or "hold": part of the key a retry pays it under
    amount: int
    reference: str  # the PaymentIntent it goes back to
    reason: str = ""  # Stripe's code and message, for staff


@dataclass
class PaymentBook:
    settled: list[LineDecision] | None = None  # each line's amounts after the exchange steps: what review sees
    extra: list[Owed] = field(default_factory=list)  # refunds beside the lines' (a captured hold's give-back)
    owed: list[Owed] = field(default_factory=list)  # refused by Stripe, waiting for a person
    waiting: bool = False  # the run loop waits for a person's resolution while this is set
    resolving: bool = False  # a resolution is being carried out: a second one is refused until it ends
    resolutions: int = 0  # how many were carried out: part of their payments' keys
    hold_intent: str = ""  # the instant exchange's authorization
    hold_captured: int = 0  # captured before the authorization lapsed; what inspection accepts goes back
    hold_lapsed: bool = False  # Stripe cancelled the hold before we captured it: nothing could be taken
    # What the lapsed hold should have taken for a replacement the shopper keeps, not collected yet: the return
    # waits for a person (`hold_expired`: retry charges it off-session, close writes it off).
    uncollected: int = 0
    shipping: int = 0  # the order's original shipping, refunded with this return
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one settlement of the hold at a time
    hold_watch: asyncio.Task[None] | None = None  # captures the hold before it lapses (workflows.exchanging)


def owed(ctx: ReturnContext) -> int:
    """What is still owed to the shopper, in minor units: the refunds Stripe refused and nobody resolved yet."""
    return sum(x.amount for x in ctx.payments.owed)


def due(ctx: ReturnContext) -> int:
    """What a payment action may move at most now: the shopper's debt for a lapsed hold while that is in the queue
    (`hold_expired`), otherwise what is owed to the shopper."""
    if ctx.current is not None and ctx.current.attention_code == "hold_expired":
        return ctx.payments.uncollected
    return owed(ctx)


def reduce_owed(ctx: ReturnContext, amount: int) -> None:
    """`amount` of what was owed has been paid (or recorded as paid): the oldest refusals first."""
    book, left = ctx.payments, amount
    for x in list(book.owed):
        part = min(x.amount, left)
        x.amount -= part
        left -= part
        if x.amount == 0:
            book.owed.remove(x)


def shipping_due(ctx: ReturnContext, settled: list[LineDecision]) -> int:
    """The order's original shipping this return refunds (policy refund_original_shipping), once per order:
    `full_return` when with this return every unit of the order has come back (the order's other returns counted
    as filed), `always` with the order's first return that pays anything back."""
    amount, rule = ctx.order.shipping_amount or 0, ctx.policy.refund_original_shipping
    if not amount or rule == "never" or ctx.claim is None:
        return 0
    accepted = {x.decision.line_id: x.accepted_quantity or 0 for x in ctx.state.lines}
    if not any(accepted.values()) or not any(x.refund or x.store_credit for x in settled):
        return 0
    others = ctx.claim.others_value
    if rule == "always":
        return amount if others == 0 else 0
    # Prices are positive and no line is returned beyond its quantity: the values add up only when every unit is back.
    order_value = sum(x.unit_price * x.quantity for x in ctx.order.lines)
    by_id = {x.id: x for x in ctx.order.lines}
    back = sum(by_id[line_id].unit_price * n for line_id, n in accepted.items() if line_id in by_id)
    return amount if others + back >= order_value else 0
