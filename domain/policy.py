"""The return policy: eligibility, the decision at submit, and the settlement after inspection.

The portal's preview, the workflow's decision and the finance view all call these functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from pydantic import BaseModel, Field

from domain.models import (
    Decision,
    Inspection,
    LineDecision,
    Order,
    OrderLine,
    ReturnLineRequest,
    ReturnLineState,
    Status,
)
from domain.money import format_amount, percent_of


class PolicySettings(BaseModel):
    window_days: int = Field(30, ge=0)
    auto_approve_limit: int = Field(25_000, ge=0, description="minor units of the order's currency")
    refund_review_threshold: int = Field(50_000, ge=0)
    shipment_expiry_days: int = Field(14, ge=1)
    shipment_reminder_days: int = Field(7, ge=1)
    approval_reminder_days: int = Field(3, ge=1)
    inspection_reminder_days: int = Field(5, ge=1)
    return_shipping_fee: int = Field(0, ge=0, description="deducted once from refunds; waived otherwise")
    restocking_fee_bps: int = Field(0, ge=0, le=10_000)
    restocking_fee_reasons: list[str] = ["changed_mind"]
    store_credit_bonus_bps: int = Field(0, ge=0, le=10_000)
    reasons: list[str] = [
        "too_small",
        "too_big",
        "changed_mind",
        "defective",
        "wrong_item",
        "not_as_described",
    ]


def line_eligibility(
    order: Order, line: OrderLine, returned: int, now: datetime, policy: PolicySettings
) -> tuple[int, bool, str | None]:
    """(returnable quantity, eligible, why not) for one order line."""
    returnable = max(line.quantity - returned, 0)
    if line.final_sale:
        return 0, False, "final sale: this item cannot be returned"
    if order.delivered_at is None:
        return 0, False, "not delivered yet"
    closes = order.delivered_at + timedelta(days=policy.window_days)
    if now > closes:
        return 0, False, f"return window of {policy.window_days} days closed on {closes.date().isoformat()}"
    if returnable == 0:
        return 0, False, "already returned"
    return returnable, True, None


def _fee(req: ReturnLineRequest, value: int, policy: PolicySettings) -> int:
    if req.resolution != "refund" or req.reason not in policy.restocking_fee_reasons:
        return 0
    return percent_of(value, policy.restocking_fee_bps)


def decide(
    order: Order,
    requested: list[ReturnLineRequest],
    returned: dict[str, int],
    now: datetime,
    policy: PolicySettings,
) -> Decision:
    """The decision at submit: each line's eligibility and amounts, and whether it is auto-approved."""
    lines: list[LineDecision] = []
    for req in requested:
        line = order.line(req.line_id)
        base = LineDecision(
            line_id=req.line_id,
            quantity=req.quantity,
            reason=req.reason,
            resolution=req.resolution,
            exchange_sku=req.exchange_sku,
            eligible=False,
        )
        if line is None:
            lines.append(base.model_copy(update={"refusal": "no such line in this order"}))
            continue
        returnable, ok, why = line_eligibility(order, line, returned.get(line.id, 0), now, policy)
        if ok and req.quantity > returnable:
            ok, why = False, f"only {returnable} of this line can still be returned"
        if ok and req.reason not in policy.reasons:
            ok, why = False, f"reason must be one of: {', '.join(policy.reasons)}"
        update = {"sku": line.sku, "title": line.title, "unit_price": line.unit_price, "eligible": ok, "refusal": why}
        lines.append(base.model_copy(update={**update, "value": line.unit_price * req.quantity}))
    _price(lines, {r.line_id: r for r in requested}, policy)
    value_total = sum(x.value for x in lines)
    amounts = _totals(lines)
    if any(not x.eligible for x in lines):
        reasons = [f"line {x.line_id}: {x.refusal}" for x in lines if not x.eligible]
        return Decision(approved=False, status=None, reasons=reasons, currency=order.currency,
                        lines=lines, value_total=value_total, **amounts)  # fmt: skip
    limit = format_amount(policy.auto_approve_limit, order.currency)
    shown = format_amount(value_total, order.currency)
    reasons = [f"every line is within the {policy.window_days}-day return window and returnable"]
    if value_total <= policy.auto_approve_limit:
        reasons.append(f"value {shown} is within the auto-approve limit of {limit}")
        approved, status = True, cast(Status, "awaiting_shipment")
    else:
        reasons.append(f"value {shown} is above the auto-approve limit of {limit}: a person will review it")
        approved, status = False, cast(Status, "pending_approval")
    return Decision(approved=approved, status=status, reasons=reasons, currency=order.currency,
                    lines=lines, value_total=value_total, **amounts)  # fmt: skip


def _price(lines: list[LineDecision], requests: dict[str, ReturnLineRequest], policy: PolicySettings) -> None:
    """Fill fee, refund and store credit of each eligible line from its value."""
    shipping_left = policy.return_shipping_fee
    for x in lines:
        x.fee = x.refund = x.store_credit = 0
        if not x.eligible or x.value == 0:
            continue
        if x.resolution == "refund":
            x.fee = _fee(requests[x.line_id], x.value, policy)
            shipping = min(shipping_left, x.value - x.fee)
            shipping_left -= shipping
            x.fee += shipping
            x.refund = x.value - x.fee
        elif x.resolution == "store_credit":
            x.store_credit = x.value + percent_of(x.value, policy.store_credit_bonus_bps)


def _totals(lines: list[LineDecision]) -> dict[str, int]:
    return {
        "refund_total": sum(x.refund for x in lines),
        "store_credit_total": sum(x.store_credit for x in lines),
        "fees_total": sum(x.fee for x in lines),
    }


def validate_inspection(lines: list[ReturnLineState], inspection: Inspection) -> list[str]:
    """Problems with an inspection, each naming the field; empty when it can be recorded."""
    by_id = {x.decision.line_id: x for x in lines}
    errors = []
    seen = set()
    for i, got in enumerate(inspection.lines):
        if got.line_id in seen:
            errors.append(f"lines[{i}].line_id: {got.line_id} appears twice")
        seen.add(got.line_id)
        line = by_id.get(got.line_id)
        if line is None:
            errors.append(f"lines[{i}].line_id: {got.line_id} is not part of this return")
        elif got.accepted_quantity > line.decision.quantity:
            errors.append(
                f"lines[{i}].accepted_quantity: {got.accepted_quantity} is more than the "
                f"{line.decision.quantity} returned"
            )
    missing = set(by_id) - seen
    if missing:
        errors.append(f"lines: missing inspection for {', '.join(sorted(missing))}")
    return errors


def settle(lines: list[ReturnLineState], policy: PolicySettings) -> list[LineDecision]:
    """Amounts after inspection: only the accepted quantity is paid back, with fees pro rata."""
    settled: list[LineDecision] = []
    requests = {}
    for x in lines:
        d = x.decision.model_copy()
        accepted = x.accepted_quantity or 0
        d.value = d.unit_price * accepted
        settled.append(d)
        requests[d.line_id] = ReturnLineRequest(
            line_id=d.line_id, quantity=max(accepted, 1), reason=d.reason,
            resolution=d.resolution, exchange_sku=d.exchange_sku or ("-" if d.resolution == "exchange" else None),
        )  # fmt: skip
    _price(settled, requests, policy)
    return settled


def needs_review(lines: list[ReturnLineState], settled: list[LineDecision], policy: PolicySettings) -> list[str]:
    """Why finance must look at this refund; empty when it can be paid at once."""
    why = []
    refund = sum(x.refund for x in settled)
    if refund > policy.refund_review_threshold:
        why.append("refund is above the review threshold")
    for x in lines:
        if (x.accepted_quantity or 0) < x.decision.quantity:
            why.append(f"line {x.decision.line_id} was refused at inspection")
    return why


def apply_review_amount(settled: list[LineDecision], amount: int) -> list[LineDecision]:
    """Lower the refund to `amount`, taking the cut from the last refund lines first."""
    over = sum(x.refund for x in settled) - amount
    for x in reversed(settled):
        if over <= 0:
            break
        cut = min(over, x.refund)
        x.refund -= cut
        over -= cut
    return settled
