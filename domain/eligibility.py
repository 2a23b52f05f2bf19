"""Whether an order line can be returned, and until when: final sale, non-returnable tags, window by tag or category."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from domain.models import Order, OrderLine

if TYPE_CHECKING:
    from domain.policy import PolicySettings

FINAL_SALE = "final sale: this item cannot be returned"


class LineVerdict(NamedTuple):
    returnable: int
    eligible: bool
    refusal: str | None
    reasons: list[str]  # why it is returnable, when it is


def window_of(line: OrderLine, policy: PolicySettings) -> tuple[int, str]:
    """(days from delivery, where they come from); the longest tag window, else the category's, else the default."""
    tagged = sorted((policy.window_days_by_tag[t], t) for t in line.tags if t in policy.window_days_by_tag)
    if tagged:
        days, tag = tagged[-1]
        return days, f"tag {tag}"
    if line.category is not None and line.category in policy.window_days_by_category:
        return policy.window_days_by_category[line.category], f"category {line.category}"
    return policy.window_days, ""


def not_returnable(line: OrderLine, policy: PolicySettings) -> str | None:
    if line.final_sale:
        return FINAL_SALE
    tag = next((t for t in line.tags if t in policy.non_returnable_tags), None)
    if tag == "final_sale":
        return FINAL_SALE
    return f"tagged {tag}: this item cannot be returned" if tag else None


def judge_line(order: Order, line: OrderLine, returned: int, now: datetime, policy: PolicySettings) -> LineVerdict:
    """One line's verdict; `returned` is what open or completed returns already hold of it."""
    returnable = max(line.quantity - returned, 0)
    refusal = not_returnable(line, policy)
    if refusal:
        return LineVerdict(0, False, refusal, [])
    if order.delivered_at is None:
        return LineVerdict(0, False, "not delivered yet", [])
    days, source = window_of(line, policy)
    window = f"return window of {days} days" + (f" ({source})" if source else "")
    closes = order.delivered_at + timedelta(days=days)
    if now > closes:
        return LineVerdict(0, False, f"{window} closed on {closes.date().isoformat()}", [])
    if returnable == 0:
        return LineVerdict(0, False, "already returned", [])
    return LineVerdict(returnable, True, None, [f"{window} open until {closes.date().isoformat()}"])
