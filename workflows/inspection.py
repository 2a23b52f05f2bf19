"""Inspection: the warehouse records what came back, line by line; then, when the policy asks for it, finance
reviews the refund before the return is resolved.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import policy as rules
    from domain.models import Inspection, LineDecision, RefundReview, ReturnState
    from domain.text import scrub
    from workflows import exchanging
    from workflows.context import ReturnContext
    from workflows.contracts import AmountTooLarge, InvalidField, WrongStatus
    from workflows.publish import project


async def record(ctx: ReturnContext, inspection: Inspection) -> ReturnState:
    """The `record_inspection` update: each line's accepted quantity, condition and what happens to it."""
    state = ctx.state
    by_id = {x.line_id: x for x in inspection.lines}
    for i, line in enumerate(state.lines):
        got = by_id[line.decision.line_id]
        line.accepted_quantity, line.condition = got.accepted_quantity, got.condition
        line.restock, line.note = got.restock, ctx.storable(got.note, f"lines[{i}].note")
        line.outcome, line.photos = got.outcome, list(got.photos)  # photo ids the API checked against the table
    lines = [{"line": x.line_id, "accepted": x.accepted_quantity, "condition": x.condition} for x in inspection.lines]
    by = ctx.storable(inspection.inspected_by, "inspection.inspected_by")
    ctx.log(state.status, "inspected", by=by, lines=lines)  # the notes are for staff
    ctx.inspected = True
    await project(ctx)
    return state


def validate_record(ctx: ReturnContext, inspection: Inspection) -> None:
    ctx.require("received")
    if ctx.inspected:
        raise WrongStatus("status: this return was already inspected")
    errors = rules.validate_inspection(ctx.state.lines, inspection)
    if errors:
        raise InvalidField("; ".join(errors))


def take_review(ctx: ReturnContext, review: RefundReview) -> ReturnState:
    """The `review_refund` update: finance's answer, applied by the run loop (review_if_needed)."""
    ctx.review, bad = scrub(review.model_copy(), "refund_review")
    ctx.note_bad_data(bad)
    return ctx.state


def validate_review(ctx: ReturnContext, review: RefundReview) -> None:
    ctx.require("pending_refund_review")
    if ctx.review is not None:
        raise WrongStatus("status: this refund was already reviewed")
    computed = sum(x.refund for x in ctx.payments.settled or ctx.settled())
    if review.approve and review.amount is not None and review.amount > computed:
        raise AmountTooLarge(f"amount: {review.amount} is more than the {computed} this return can refund")


async def await_inspection(ctx: ReturnContext) -> None:
    """Wait for the warehouse, with a reminder in the timeline every inspection_reminder_days."""
    while True:
        try:
            await workflow.wait_condition(
                lambda: ctx.inspected, timeout=timedelta(days=ctx.policy.inspection_reminder_days)
            )
            return
        except TimeoutError:
            ctx.log(ctx.status(), "inspection_reminder")
            await project(ctx)


async def review_if_needed(ctx: ReturnContext) -> list[LineDecision]:
    """What each line pays back: as settled, or as finance decided when the policy sends the refund to review.
    The exchanges' steps come first, so finance sees what a cheaper exchange gives back and a fall-back pays."""
    settled = ctx.settled()
    await exchanging.before_review(ctx, settled)
    ctx.payments.settled = settled
    assert ctx.claim is not None
    why = rules.needs_review(ctx.state.lines, settled, ctx.policy, ctx.claim.others_value)
    if not why:
        return settled
    ctx.transition(
        "pending_refund_review", "finance_review", reasons=[x.model_dump() for x in why]
    )  # for finance: api/services/review.py
    await project(ctx)
    await workflow.wait_condition(lambda: ctx.review is not None)
    return _apply_review(ctx, settled)


def _apply_review(ctx: ReturnContext, settled: list[LineDecision]) -> list[LineDecision]:
    review = ctx.review
    assert review is not None
    # Finance's note says why, for staff: it stays out of the message the shopper reads.
    if not review.approve:  # nothing is paid, as refund or as store credit
        for x in settled:
            x.refund, x.store_credit = 0, 0
        ctx.log(ctx.status(), "refund_denied", by=review.reviewed_by, note=review.note)
        return settled
    if review.amount is not None:
        settled = rules.apply_review_amount(settled, review.amount)
    total = sum(x.refund for x in settled)
    ctx.log(ctx.status(), "refund_approved", by=review.reviewed_by, note=review.note, amount=total)
    return settled
