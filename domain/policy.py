"""The return policy: eligibility, the decision at submit, and the settlement after inspection.

The portal's preview, the workflow's decision and the finance view all call these functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.bounds import BasisPoints, Count, Days, MinorUnits, PositiveDays
from domain.codes import Coded, coded
from domain.eligibility import judge_line
from domain.fees import price_lines
from domain.models import (
    MAX_PHOTOS,
    Decision,
    Inspection,
    LineDecision,
    Order,
    ReturnLineRequest,
    ReturnLineState,
    Status,
)
from domain.money import format_amount
from domain.reason_codes import Said, on_line, said
from domain.screening import approval_reasons, keep_it
from domain.text import Email, Identifier

# Lists and maps an admin edits by hand: far above any real shop's, low enough that one document stays small.
Reasons = Annotated[list[Identifier], Field(max_length=100)]
Tags = Annotated[list[Identifier], Field(max_length=1000)]
DaysBy = Annotated[dict[Identifier, Days], Field(max_length=1000)]


class ReasonRequirement(BaseModel):
    """What the shopper must add to a line for this reason (`reason_requirements`): a comment, and at least `photos`
    photos (0-3). Nothing by default."""

    model_config = ConfigDict(extra="forbid")  # a typo ("coment") must not silently ask for nothing
    comment: bool = False
    photos: Annotated[int, Field(ge=0, le=MAX_PHOTOS)] = 0


class ReturnerHistory(BaseModel):
    """The shopper's other returns in the policy's serial window, from the read model."""

    returns: int = 0
    value: int = 0


class PolicySettings(BaseModel):
    window_days: Days = 30
    auto_approve_limit: MinorUnits = Field(25_000, description="minor units of the order's currency")
    refund_review_threshold: MinorUnits = 50_000
    shipment_expiry_days: PositiveDays = 14
    shipment_reminder_days: PositiveDays = 7
    approval_reminder_days: PositiveDays = 3
    inspection_reminder_days: PositiveDays = 5
    return_shipping_fee: MinorUnits = Field(0, description="deducted once from refunds; waived otherwise")
    restocking_fee_bps: BasisPoints = 0
    restocking_fee_reasons: Reasons = ["changed_mind"]
    store_credit_bonus_bps: BasisPoints = 0
    store_credit_expiry_days: Days = Field(365, description="0: store credit never expires")
    reasons: Reasons = [
        "too_small",
        "too_big",
        "changed_mind",
        "defective",
        "wrong_item",
        "not_as_described",
    ]
    # A category's own reasons (its items offer these instead of `reasons`); other categories use `reasons`.
    reasons_by_category: Annotated[
        dict[Identifier, Annotated[Reasons, Field(min_length=1)]], Field(max_length=1000)
    ] = {}
    # reason -> what a line with it must carry (a comment, photos), e.g. {"defective": {"comment": true, "photos": 1}}
    reason_requirements: Annotated[dict[Identifier, ReasonRequirement], Field(max_length=100)] = {}
    # --- policy as data (a versioned document; see domain/policy_document.py) ---
    window_days_by_tag: DaysBy = {}  # a tag's window wins over the category's; the longest tag wins
    window_days_by_category: DaysBy = {}
    non_returnable_tags: Tags = ["final_sale", "non_returnable"]
    # reason -> basis points; unset: restocking_fee_bps for each of restocking_fee_reasons (the older form)
    restocking_fee_bps_by_reason: Annotated[dict[Identifier, BasisPoints], Field(max_length=100)] | None = None
    keep_it_below: MinorUnits = Field(0, description="refund without return when the value is below this; 0: off")
    blocked_emails: Annotated[list[Email], Field(max_length=10_000)] = []  # never auto-approved
    serial_window_days: PositiveDays = 90
    serial_max_returns: Count | None = Field(None, description="more returns than this in the window: review")
    serial_max_value: MinorUnits | None = Field(None, description="more value returned in the window: review")
    # --- exchanges (domain/exchanges.py) ---
    exchange_fallback: Literal["refund", "store_credit"] = "refund"  # when the replacement cannot ship
    free_exchanges: bool = Field(True, description="exchanges of equal or lower value bear no return shipping fee")
    instant_exchange: bool = Field(False, description="ship the replacement at approval, under a card hold")
    # --- logistics (workflows/shipping.py, workflows/tracking.py) ---
    label_validity_days: PositiveDays = Field(
        28, description="an unused label is voided after this; a new one can be asked"
    )
    stuck_parcel_days: PositiveDays = Field(5, description="no carrier scan this long after in_transit: an exception")
    # Each reissue voids and makes every parcel's label (bought again from a carrier API) and mails them all.
    label_reissues_per_day: int = Field(
        3, ge=1, le=100, description="new labels a return may get in any 24 hours; past it the API answers 429"
    )
    late_scan_days: Days = Field(
        30, description="after expiry, how long a carrier scan still puts the return in the Exceptions queue"
    )
    # --- money ---
    refund_original_shipping: Literal["never", "full_return", "always"] = Field(
        "full_return",
        description="add the order's shipping_amount to the refund: full_return when every unit comes back",
    )

    @field_validator("reason_requirements")
    @classmethod
    def _known_requirements(
        cls, value: dict[str, ReasonRequirement], info: ValidationInfo
    ) -> dict[str, ReasonRequirement]:
        # A field validator, so a refusal names reason_requirements (a model's own names only the body). When the
        # reasons themselves were refused, that refusal is the one to read, and this check has nothing to go on.
        if "reasons" not in info.data or "reasons_by_category" not in info.data:
            return value
        known = {*info.data["reasons"], *(r for rs in info.data["reasons_by_category"].values() for r in rs)}
        if unknown := sorted(set(value) - known):
            raise ValueError(f"{', '.join(unknown)}: not in the policy's reasons or reasons_by_category")
        return value

    def reasons_for(self, category: str | None) -> list[str]:
        """The reasons an item of this category may be returned for."""
        return self.reasons_by_category.get(category, self.reasons) if category else self.reasons

    def requirement(self, reason: str) -> ReasonRequirement:
        return self.reason_requirements.get(reason) or ReasonRequirement()

    def restocking_bps(self, reason: str) -> int:
        if self.restocking_fee_bps_by_reason is not None:
            return self.restocking_fee_bps_by_reason.get(reason, 0)
        return self.restocking_fee_bps if reason in self.restocking_fee_reasons else 0


def decide(
    order: Order,
    requested: list[ReturnLineRequest],
    returned: dict[str, int],
    now: datetime,
    policy: PolicySettings,
    history: ReturnerHistory | None = None,
) -> Decision:
    """The decision at submit: each line's eligibility and amounts with their reasons, and who goes ahead.

    `returned` is what other open or completed returns hold per line; `history` is the shopper's other
    returns in the serial window (None: not known, the serial rule is not applied).
    """
    lines: list[LineDecision] = []
    own_window = False  # a line is under a tag's or category's window, not the policy's default
    for req in requested:
        line = order.line(req.line_id)
        base = LineDecision(
            line_id=req.line_id,
            quantity=req.quantity,
            reason=req.reason,
            resolution=req.resolution,
            exchange_sku=req.exchange_sku,
            eligible=False,
            comment=req.comment,
            photo_ids=list(req.photo_ids),
        )
        if line is None:
            lines.append(_refuse(base, said("no such line in this order", "no_such_line")))
            continue
        verdict = judge_line(order, line, returned.get(line.id, 0), now, policy)
        own_window = own_window or verdict.own_window
        why = verdict.refused
        if why is None and req.quantity > verdict.returnable:
            left = verdict.returnable
            why = said(f"only {left} of this line can still be returned", "quantity_left", left=left)
        if why is None and req.reason not in policy.reasons_for(line.category):
            allowed = ", ".join(policy.reasons_for(line.category))
            why = said(f"reason must be one of: {allowed}", "reason_not_allowed", allowed=allowed)
        update = {"sku": line.sku, "title": line.title, "unit_price": line.unit_price,
                  "value": line.unit_price * req.quantity}  # fmt: skip
        decided = base.model_copy(update=update)
        lines.append(_refuse(decided, why) if why else _explain_line(decided.model_copy(update={"eligible": True}),
                                                                     verdict.why))  # fmt: skip
    value_total = sum(x.value for x in lines)
    if any(not x.eligible for x in lines):
        _explain(lines, price_lines(lines, policy, order.currency))
        refused = [on_line(Said(str(x.refusal), x.refusal_code), x.line_id, x.title)
                   for x in lines if not x.eligible and x.refusal_code]  # fmt: skip
        out = Decision(approved=False, status=None, reasons=[], currency=order.currency,
                       lines=lines, value_total=value_total, **_totals(lines))  # fmt: skip
        out.add_reasons(refused)
        return out
    reasons = [
        said(
            f"every line is within the {policy.window_days}-day return window and returnable",
            "within_window_all",
            days=policy.window_days,
        )  # fmt: skip
        if not own_window
        else said("every line is within its return window and returnable", "within_own_windows")
    ]
    # Limits count the order's other returns too: five one-unit returns must not pass where one of five would not.
    others = others_value(order, returned)
    screened, review, notes = approval_reasons(order, value_total, policy, history, others)
    reasons += screened
    keep = not review and keep_it(lines, value_total + others, policy)
    _explain(lines, price_lines(lines, policy, order.currency, keep_it=keep))
    if keep:
        limit = format_amount(policy.keep_it_below, order.currency)
        reasons.append(said(f"value is below the keep-it limit of {limit}: keep the items, no need to send them back",
                            "keep_it", limit=policy.keep_it_below, currency=order.currency))  # fmt: skip
    status = cast(Status, "pending_approval" if review else "awaiting_shipment")
    out = Decision(approved=not review, status=status, reasons=[], currency=order.currency, lines=lines,
                   value_total=value_total, keep_it=keep, review_notes=notes, **_totals(lines))  # fmt: skip
    out.add_reasons(reasons)
    return out


def _refuse(line: LineDecision, why: Said) -> LineDecision:
    return line.model_copy(update={"eligible": False, "refusal": why.text, "refusal_code": why.code,
                                   "reasons": [why.text], "reason_codes": [why.code]})  # fmt: skip


def _explain_line(line: LineDecision, said: list[Said]) -> LineDecision:
    line.reasons = [*line.reasons, *(x.text for x in said)]
    line.reason_codes = [*line.reason_codes, *(x.code for x in said)]
    return line


def _explain(lines: list[LineDecision], fees: dict[str, list[Said]]) -> None:
    for x in lines:
        _explain_line(x, fees.get(x.line_id, []))


class Totals(TypedDict):
    refund_total: int
    store_credit_total: int
    fees_total: int


def _totals(lines: list[LineDecision]) -> Totals:
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


def settle(lines: list[ReturnLineState], policy: PolicySettings, currency: str | None = None) -> list[LineDecision]:
    """Amounts after inspection: only the accepted quantity is paid back, with fees pro rata."""
    settled: list[LineDecision] = []
    for x in lines:
        d = x.decision.model_copy()
        accepted = x.accepted_quantity or 0
        d.value = d.unit_price * accepted
        d.reasons, d.reason_codes = [], []
        _explain_line(d, [said(f"{accepted} of {d.quantity} accepted at inspection", "accepted_at_inspection",
                               accepted=accepted, quantity=d.quantity)])  # fmt: skip
        settled.append(d)
    _explain(settled, price_lines(settled, policy, currency))
    return settled


def others_value(order: Order, returned: dict[str, int]) -> int:
    """What the order's other returns hold (`returned`: units per line of those not rejected, cancelled or expired),
    at the lines' prices: the most they can pay back."""
    return sum(line.unit_price * returned.get(line.id, 0) for line in order.lines)


def needs_review(
    lines: list[ReturnLineState], settled: list[LineDecision], policy: PolicySettings, others: int = 0
) -> list[Coded]:
    """Why finance must look at this refund, as codes; empty when it can be paid at once. `others`: others_value()
    when the return was filed, so a refund split over several returns is reviewed as one."""
    why = []
    refund = sum(x.refund for x in settled)
    if refund > policy.refund_review_threshold:
        why.append(coded("review_above_threshold"))
    elif refund and refund + others > policy.refund_review_threshold:
        why.append(coded("review_above_threshold_with_others"))
    for x in lines:
        if (x.accepted_quantity or 0) < x.decision.quantity:
            why.append(coded("review_refused_at_inspection", line=x.decision.line_id))
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
