"""What is deducted from a line and what is added: restocking fee by reason, return shipping, store-credit bonus.

Fees come only out of refunds (never below zero, never above the line's value); store credit and exchanges
pay no return shipping. A "keep it" return pays no fee at all: nothing travels and nothing is restocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.models import LineDecision
from domain.money import format_amount, percent_of
from domain.reason_codes import Said, said

if TYPE_CHECKING:
    from domain.policy import PolicySettings


def percent(bps: int) -> str:
    whole, frac = divmod(bps, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "%"


def _amount(value: int, currency: str | None) -> str:
    return format_amount(value, currency) if currency else f"{value} minor units"


def price_lines(
    lines: list[LineDecision], policy: PolicySettings, currency: str | None = None, keep_it: bool = False
) -> dict[str, list[Said]]:
    """Fill fee, refund and store credit of each eligible line from its value; the explanation per line id."""
    shipping_left = 0 if keep_it else policy.return_shipping_fee
    why: dict[str, list[Said]] = {}
    cur = (currency or "").upper()
    for x in lines:
        x.fee = x.refund = x.store_credit = 0
        notes = why.setdefault(x.line_id, [])
        if not x.eligible or x.value == 0:
            continue
        if keep_it:
            notes.append(said("keep it: no return shipping and no restocking fee", "keep_it_no_fees"))
        if x.resolution == "refund":
            bps = 0 if keep_it else policy.restocking_bps(x.reason)
            restocking = percent_of(x.value, bps)
            if restocking:
                notes.append(said(f"restocking fee {percent(bps)} for {x.reason}: {_amount(restocking, currency)}",
                                  "restocking_fee", bps=bps, reason=x.reason, fee=restocking, currency=cur))  # fmt: skip
            elif not keep_it and _any_restocking(policy):
                notes.append(said(f"no restocking fee for {x.reason}", "no_restocking_fee", reason=x.reason))
            shipping = min(shipping_left, x.value - restocking)
            shipping_left -= shipping
            if shipping:
                notes.append(said(f"return shipping fee deducted: {_amount(shipping, currency)}",
                                  "shipping_fee_deducted", fee=shipping, currency=cur))  # fmt: skip
            x.fee = restocking + shipping
            x.refund = x.value - x.fee
        else:
            if policy.return_shipping_fee and not keep_it:
                notes.append(said(f"return shipping fee waived for {x.resolution.replace('_', ' ')}",
                                  "shipping_fee_waived", resolution=x.resolution))  # fmt: skip
            if x.resolution == "store_credit":
                bonus = percent_of(x.value, policy.store_credit_bonus_bps)
                x.store_credit = x.value + bonus
                if bonus:
                    text = f"store credit bonus {percent(policy.store_credit_bonus_bps)}: {_amount(bonus, currency)}"
                    notes.append(said(text, "store_credit_bonus", bps=policy.store_credit_bonus_bps, bonus=bonus,
                                      currency=cur))  # fmt: skip
    return why


def _any_restocking(policy: PolicySettings) -> bool:
    if policy.restocking_fee_bps_by_reason is not None:
        return any(policy.restocking_fee_bps_by_reason.values())
    return bool(policy.restocking_fee_bps and policy.restocking_fee_reasons)
