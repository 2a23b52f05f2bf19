"""What finance sees beside a review besides the refund itself: the order's total, how it was paid, what the order
already got back, what the return pays as store credit, and each line's inspection in words.

Kept apart from api.services.review (the decision) so the review's own facts stay as they were.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.payment_method import payment_method
from api.wording import say
from db.models import OrderRow, ReturnRow
from db.policy_store import current_policy, policy_version
from db.queues import refunded_on_order
from domain.codes import Coded
from domain.models import Order, ReturnState
from domain.policy import settle
from settings import Settings


async def finance_facts(db: AsyncSession, settings: Settings, row: ReturnRow) -> dict[str, Any]:
    """Keys: order_total (minor units or None), order_currency, paid_with (api.payment_method.PaymentMethod),
    refunded (list of (currency, amount)), credit (store credit this return pays), outcomes ({line id: (key,
    accepted, quantity)}: staff.outcome.* keys)."""
    state = ReturnState.model_validate(row.state)
    order_row = await db.get(OrderRow, row.order_number)
    order = Order.model_validate(order_row.data) if order_row else None
    stored = await policy_version(db, state.policy_version) if state.policy_version else None
    policy = stored.policy if stored else (await current_policy(db, settings.policy)).policy
    settled = settle(state.lines, policy)
    return {
        "order_total": _total(order) if order else None,
        "order_currency": order.currency if order else state.currency,
        "paid_with": await payment_method(settings, order.payment.reference) if order else None,
        "refunded": await refunded_on_order(db, row.order_number),
        "credit": sum(x.store_credit for x in settled),
        "outcomes": {x.decision.line_id: (_outcome(x.accepted_quantity, x.decision.quantity),
                                          x.accepted_quantity or 0, x.decision.quantity) for x in state.lines},
    }  # fmt: skip


def _total(order: Order) -> int:
    return sum(line.unit_price * line.quantity for line in order.lines) + (order.shipping_amount or 0)


def _outcome(accepted: int | None, quantity: int) -> str:
    if accepted is None:
        return "not_inspected"
    if accepted >= quantity:
        return "accepted"
    return "partly_accepted" if accepted > 0 else "refused"


def why_shown(why: list[Coded], outcomes: dict[str, tuple[str, int, int]], t: Any) -> list[str]:
    """The review's reasons in the reader's words: a line refused at inspection says whether it was refused or only
    partly accepted (the workflow's code names both); others as the policy's code says them."""
    shown = []
    for c in why:
        line = str(c.params.get("line", ""))
        if c.code == "review_refused_at_inspection" and line in outcomes:
            key, accepted, quantity = outcomes[line]
            shown.append(t(f"staff.why.{key}", line=line, accepted=accepted, quantity=quantity))
        else:
            shown.append(say(t, c))
    return shown
