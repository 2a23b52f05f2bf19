"""What a return of some lines of an order would get: the decision line by line with its reasons, and each
exchange's price difference. The same code the workflow decides with at submit (it decides again there, under a
lock and the policy then in force); here nothing is claimed or reserved."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.exchange_quotes import price_preview
from db.policy_store import returner_history
from db.queries import claimed_quantities
from domain.models import Decision, Order, ReturnLineRequest
from domain.policy import PolicySettings, decide


async def preview(
    db: AsyncSession, order: Order, lines: list[ReturnLineRequest], policy: PolicySettings, *, excluding: str = "",
    full: bool = True,
) -> Decision:  # fmt: skip
    """The decision for `lines`, counting the units the order's other returns hold (but for return `excluding`).

    `full=False` is the submit's early check, which asks only which lines are ineligible: that needs neither the
    shopper's history (the serial rule) nor exchange prices, and skips their queries."""
    now = datetime.now(UTC)
    claimed = await claimed_quantities(db, order.number, excluding=excluding)
    if not full:
        return decide(order, lines, claimed, now, policy)
    history = await returner_history(db, order.email, excluding, now, policy.serial_window_days)
    decision = decide(order, lines, claimed, now, policy, history)
    await price_preview(db, decision, lines, policy)
    return decision
