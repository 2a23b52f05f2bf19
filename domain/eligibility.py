"""Whether an order line can be returned, and until when: final sale, non-returnable tags, window by tag or category."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from domain.codes import Coded
from domain.models import Order, OrderLine
from domain.reason_codes import Said, said

if TYPE_CHECKING:
    from domain.policy import PolicySettings

FINAL_SALE = "final sale: this item cannot be returned"


class LineVerdict(NamedTuple):
    returnable: int
    eligible: bool
    refused: Said | None
    why: list[Said]  # why it is returnable, when it is
    own_window: bool = False  # a tag's or category's window, not the policy's default

    @property
    def refusal(self) -> str | None:
        return self.refused.text if self.refused else None

    @property
    def refusal_code(self) -> Coded | None:
        return self.refused.code if self.refused else None

    @property
    def reasons(self) -> list[str]:
        return [x.text for x in self.why]


def window_of(line: OrderLine, policy: PolicySettings) -> tuple[int, Literal["tag", "category", ""], str]:
    """(days from delivery, what sets them and its name); the longest tag window, else the category's, else the
    policy's default ("", "")."""
    tagged = sorted((policy.window_days_by_tag[t], t) for t in line.tags if t in policy.window_days_by_tag)
    if tagged:
        days, tag = tagged[-1]
        return days, "tag", tag
    if line.category is not None and line.category in policy.window_days_by_category:
        return policy.window_days_by_category[line.category], "category", line.category
    return policy.window_days, "", ""


def not_returnable(line: OrderLine, policy: PolicySettings) -> Said | None:
    tag = next((t for t in line.tags if t in policy.non_returnable_tags), None)
    if line.final_sale or tag == "final_sale":
        return said(FINAL_SALE, "final_sale")
    return said(f"tagged {tag}: this item cannot be returned", "not_returnable_tag", tag=tag) if tag else None


def _window(days: int, kind: str, name: str, is_open: bool, date: str) -> Said:
    """The window's reason: open until `date` or closed on it; `kind` "tag" or "category" names what set it."""
    state = "open_until" if is_open else "closed_on"
    text = (
        f"return window of {days} days" + (f" ({kind} {name})" if kind else "") + f" {state.replace('_', ' ')} {date}"
    )
    code = ("within_window" if is_open else "outside_window") + (f"_by_{kind}" if kind else "")
    params: dict[str, str | int] = {"days": days, state: date}
    if kind:
        params[kind] = name
    return said(text, code, **params)


def judge_line(order: Order, line: OrderLine, returned: int, now: datetime, policy: PolicySettings) -> LineVerdict:
    """One line's verdict; `returned` is what open or completed returns already hold of it."""
    returnable = max(line.quantity - returned, 0)
    refusal = not_returnable(line, policy)
    if refusal:
        return LineVerdict(0, False, refusal, [])
    if order.delivered_at is None:
        return LineVerdict(0, False, said("not delivered yet", "not_delivered"), [])
    days, kind, name = window_of(line, policy)
    closes = order.delivered_at + timedelta(days=days)
    if now > closes:
        return LineVerdict(0, False, _window(days, kind, name, False, closes.date().isoformat()), [])
    if returnable == 0:
        return LineVerdict(0, False, said("already returned", "already_returned"), [])
    why = [_window(days, kind, name, True, closes.date().isoformat())]
    return LineVerdict(returnable, True, None, why, own_window=bool(kind))
