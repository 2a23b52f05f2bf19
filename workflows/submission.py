"""Submission and decision: the shopper's submit is claimed against the order and decided by the policy (approved,
pending a person's approval, or refused line by line); an approval issues the labels.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import Inventory
    from activities.read_model import ReadModel
    from domain.exchanges import charge_due
    from domain.messages import ClaimInput, SubmitAnswer, SubmitRequest
    from domain.models import Decision, ReturnLineState, ReturnState
    from domain.text import scrub
    from workflows import exchanging, shipping
    from workflows.context import ReturnContext
    from workflows.contracts import (
        ALREADY_SUBMITTED,
        ORDER_KEY,
        STATUS_KEY,
        AlreadySubmitted,
        ChargeChanged,
        IneligibleLines,
        WrongStatus,
    )
    from workflows.options import call
    from workflows.publish import mail, project

# How long a started return waits for its first submit; update-with-start delivers it at once when all goes well.
SUBMIT_WAIT = timedelta(hours=1)


async def submit(ctx: ReturnContext, req: SubmitRequest) -> SubmitAnswer:
    """The `submit` update: claim the order's lines, decide, and issue the labels when approved at once."""
    # Two submits delivered in one workflow task both pass the validator before either handler runs: the second
    # to start is refused here, before it claims anything.
    if ctx.submit_started:
        raise AlreadySubmitted(ALREADY_SUBMITTED)
    ctx.submit_started = True
    info = workflow.info()
    req, bad = scrub(req, "submit")  # an exchange SKU is looked up in the database as it came
    ctx.note_bad_data(bad)
    ctx.claim = await call(ReadModel.claim, ClaimInput(return_id=info.workflow_id, order_number=ctx.input.order_number,
                                                       lines=req.lines, now=workflow.now()))  # fmt: skip
    decision = ctx.claim.decision
    if decision.ineligible:
        ctx.invalid = True
        raise IneligibleLines("; ".join(decision.reasons), [x.model_dump() for x in decision.ineligible])
    await exchanging.price_at_submit(ctx, decision, req.lines)
    if req.accept_charge is not None and (due := charge_due(decision.lines)) != req.accept_charge:
        await _withdraw(ctx)
        raise ChargeChanged(f"the charge for these exchanges is {due}, not {req.accept_charge}", due)
    order = ctx.claim.order
    now = workflow.now()
    assert decision.status is not None
    ctx.current = state = ReturnState(
        id=info.workflow_id, order_number=order.number, email=order.email, currency=order.currency,
        status=decision.status, lines=[ReturnLineState(decision=x) for x in decision.lines],
        decision_reasons=decision.reasons, decision_codes=decision.reason_codes, review_notes=decision.review_notes,
        refund_total=decision.refund_total,
        store_credit_total=decision.store_credit_total, fees_total=decision.fees_total,
        policy_version=ctx.claim.policy_version, locale=req.locale or order.locale or "", created_at=now,
        updated_at=now,
    )  # fmt: skip
    ctx.log(decision.status, "return_requested")  # its reasons are the state's decision_reasons
    if ctx.bad_data:  # what the request held is flagged now that there is a return to flag
        ctx.calm()
    ctx.publish_status()
    shipping.set_parcels(ctx, req.parcels)
    if decision.approved and not _keep_it(ctx, decision):
        await _labels_or_refusal(ctx)
    await project(ctx)
    ctx.submitted = True
    return SubmitAnswer(**state.model_dump(), decision=decision)


async def _labels_or_refusal(ctx: ReturnContext) -> None:
    """Issue the labels; when the carrier cannot make them, the return ends rejected (its claims released, its
    labels voided), stays in the Exceptions queue for staff (`label_unavailable`), and the caller hears why."""
    try:
        await shipping.issue_labels(ctx)
    except ApplicationError as e:
        if e.type != shipping.LABEL_UNAVAILABLE:
            raise
        reason = str(e.details[0])  # the carrier's reason, without the message's "label: "
        # Staff read the carrier's words (timeline, queue); the shopper a sentence in their language, by the code.
        ctx.label_refused = True
        ctx.transition("rejected", "label_unavailable", reason=reason)
        ctx.need_person("label_unavailable", reason)
        await project(ctx)
        ctx.submitted = True  # the run loop closes it: the labels made are void, the shopper is told
        raise


async def _withdraw(ctx: ReturnContext) -> None:
    """The submit is refused after its claim: the order's units and the replacements it reserved are free again,
    and the workflow ends without a return."""
    rid = workflow.info().workflow_id
    await call(Inventory.release_return, rid)
    await call(ReadModel.release_claims, rid)
    ctx.invalid = True


def validate_submit(ctx: ReturnContext) -> None:
    if ctx.submit_started or ctx.claim is not None or ctx.invalid:
        raise AlreadySubmitted(ALREADY_SUBMITTED)


def _keep_it(ctx: ReturnContext, decision: Decision) -> bool:
    """Refund without return (policy keep_it_below): no label, no parcel, no inspection."""
    if not decision.keep_it:
        return False
    ctx.kept = True
    ctx.transition("received", "kept")
    return True


async def approve(ctx: ReturnContext, by: str) -> ReturnState:
    """The `approve` update: a person approves a return the policy held back; its labels are issued."""
    ctx.approved_by = ctx.storable(by, "approve.by")
    ctx.approving = True
    await _labels_or_refusal(ctx)  # before the status changes, so the run loop finds the labels
    if ctx.status() != "pending_approval":  # rejected or cancelled while the label was made
        return ctx.state
    ctx.transition("awaiting_shipment", "approved", by=ctx.approved_by)
    await project(ctx)
    return ctx.state


def validate_approve(ctx: ReturnContext) -> None:
    ctx.require("pending_approval")
    if ctx.approving:
        raise WrongStatus("status: this return is already being approved")


async def submit_arrives(ctx: ReturnContext) -> bool:
    """False when no submit started within SUBMIT_WAIT of the start: the start was kept but its submit was lost
    (the engine restarted during update-with-start; the shopper was told to retry and filed anew)."""
    try:
        await workflow.wait_condition(lambda: ctx.submit_started or ctx.invalid, timeout=SUBMIT_WAIT)
        return True
    except TimeoutError:
        if ORDER_KEY in workflow.info().typed_search_attributes:
            workflow.upsert_search_attributes([STATUS_KEY.value_set("abandoned")])
        return False


async def await_approval(ctx: ReturnContext) -> None:
    """Tell the shopper the return waits for the shop, and wait, with a reminder in the timeline now and then."""
    await mail(ctx, "submitted", {})
    days = timedelta(days=ctx.policy.approval_reminder_days)
    while True:
        try:
            await workflow.wait_condition(lambda: ctx.status() != "pending_approval", timeout=days)
            return
        except TimeoutError:
            ctx.log("pending_approval", "approval_reminder")
            await project(ctx)
