"""Who must look at a return before it goes ahead: value above the auto-approve limit, a blocked e-mail,
a serial returner. And when a return may skip the trip altogether ("keep it")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.models import LineDecision, Order
from domain.money import format_amount
from domain.reason_codes import Said, said

if TYPE_CHECKING:
    from domain.policy import PolicySettings, ReturnerHistory


# What the shopper reads when the shop's own screening (block list, serial returner) holds a return: those
# rules' reasons are for staff only (Decision.review_notes), since telling a shopper they are on a block list
# or counted as a serial returner helps nobody and invites gaming the limits.
REVIEW_FOR_SCREENING = "a person will review this return before it goes ahead"


def approval_reasons(
    order: Order, value_total: int, policy: PolicySettings, history: ReturnerHistory | None, others: int = 0
) -> tuple[list[Said], bool, list[str]]:
    """(the shopper's reasons, whether a person must review it, the staff's review notes); every rule says
    why, passed or not. `others`: what the order's other returns hold, which the auto-approve limit counts too."""
    limit = format_amount(policy.auto_approve_limit, order.currency)
    shown = format_amount(value_total, order.currency)
    if others:
        shown += f" ({format_amount(value_total + others, order.currency)} with the order's other returns)"
    review = value_total + others > policy.auto_approve_limit
    text = f"value {shown} is above the auto-approve limit of {limit}: a person will review it" if review else (
        f"value {shown} is within the auto-approve limit of {limit}")  # fmt: skip
    code = ("above" if review else "within") + "_approval_limit" + ("_with_others" if others else "")
    amounts: dict[str, str | int] = {
        "value": value_total,
        "limit": policy.auto_approve_limit,
        "currency": order.currency,
    }
    if others:
        amounts["total"] = value_total + others
    reasons = [said(text, code, **amounts)]
    notes: list[str] = []
    if order.email.lower() in policy.blocked_emails:
        notes.append(f"e-mail {order.email} is on the block list: a person will review it")
    if history is not None:
        days = policy.serial_window_days
        count = history.returns + 1
        if policy.serial_max_returns is not None and count > policy.serial_max_returns:
            notes.append(f"{count} returns in the last {days} days, more than the {policy.serial_max_returns} "
                         "allowed: a person will review it")  # fmt: skip
        worth = history.value + value_total
        if policy.serial_max_value is not None and worth > policy.serial_max_value:
            notes.append(f"returns worth {format_amount(worth, order.currency)} in the last {days} days, more than "
                         f"{format_amount(policy.serial_max_value, order.currency)}: a person will review it")  # fmt: skip
    if notes:
        reasons.append(said(REVIEW_FOR_SCREENING, "review_for_screening"))
    return reasons, review or bool(notes), notes


def keep_it(lines: list[LineDecision], value_total: int, policy: PolicySettings) -> bool:
    """Refund without return: a small return of money or credit only (an exchange still ships the items).
    `value_total` includes the order's other returns, so splitting an order into small returns keeps nothing."""
    if not 0 < value_total < policy.keep_it_below or value_total > policy.refund_review_threshold:
        return False
    return all(x.eligible and x.resolution != "exchange" for x in lines)
