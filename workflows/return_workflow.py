"""ReturnWorkflow: one return from submit to completion. Deterministic: all I/O is in activities.

The class holds the messages (updates, the carrier signal, the state query) and the run loop that goes through
the stages; each stage is a module working on the return's ReturnContext (workflows/context.py):
submission (submit, decision, approval), shipping (labels, waiting for the parcel), tracking (carrier scans,
stuck parcels, receiving), inspection (and finance review), resolution (refund, store credit, exchange via
exchanging and the ExchangeWorkflow child). Callers find names and types in workflows/contracts.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # `import workflows.x as x`, not `from workflows import x`: in that form the sandbox ran the module again for
    # every workflow it started.
    import workflows.exceptions as exceptions
    import workflows.exchanging as exchanging
    import workflows.inspection as inspection_stage  # `inspection` is the name of the update's argument
    import workflows.resolution as resolution
    import workflows.shipping as shipping
    import workflows.submission as submission
    import workflows.tracking as tracking
    from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
    from domain.models import CarrierEvent, Inspection, RefundReview, ResolveRequest, ReturnState
    from workflows.context import ReturnContext
    from workflows.contracts import ALREADY_SUBMITTED, ORDER_KEY, STATUS_KEY, AmountTooLarge, WrongStatus
    from workflows.publish import mail, project
    from workflows.settlement import PAYMENT_ACTIONS, due

# The three names are importable from here as before; callers take them from workflows.contracts.
__all__ = ["ALREADY_SUBMITTED", "ORDER_KEY", "STATUS_KEY", "ReturnWorkflow"]

# Who did something, as a shopper reads it in the timeline; the person's name goes to TimelineEntry.by (staff only).
SHOPPER = "shopper"


async def _payment(ctx: ReturnContext, req: ResolveRequest) -> None:
    code = ctx.state.attention_code  # what the action answers: the validator checked it is offered for this code
    if code == "hold_expired":
        await resolution.collect_hold(ctx, req.amount, req.by, req.note)
    elif code == "label_unavailable":
        await shipping.retry_labels(ctx, req.by, req.note)
    else:
        await resolution.resolve_payment(ctx, req.action, req.amount, req.by, req.note, req.reference or "")


async def _close(ctx: ReturnContext, req: ResolveRequest) -> None:
    if ctx.state.attention_code == "hold_expired":  # a lapsed hold nobody will collect
        resolution.write_off_hold(ctx, req.by, req.note)
        await project(ctx)
        return
    await exceptions.HANDLERS["close"](ctx, req)


# What each action of the `resolve` update does; the validator refuses an action the return does not offer now
# (ReturnState.resolutions). Payment actions settle what Stripe refused (workflows.resolution.resolve_payment).
RESOLVERS: dict[str, Callable[[ReturnContext, ResolveRequest], Awaitable[None]]] = {
    "retry": _payment,
    "store_credit": _payment,
    "refund_outside": _payment,
    **exceptions.HANDLERS,  # refund_without_receipt, close, reopen
    "close": _close,
}


# Its name and each handler's name are the strings in workflows.contracts (tests/workflows/test_contracts.py).
@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, inp: ReturnInput) -> None:
        # Input at init: with update-with-start, `submit` may run before `run` does.
        self.ctx = ReturnContext(inp)

    # --- messages -------------------------------------------------------------------------------
    # Every update handler begins with ctx.update_begins(): until the workflow task that runs it completes, the
    # update is not durable, and the read model must not show it yet (workflows.publish.project).

    @workflow.query
    def get_state(self) -> ReturnState | None:
        return self.ctx.current

    @workflow.update
    async def submit(self, req: SubmitRequest) -> SubmitAnswer:
        self.ctx.update_begins()
        return await submission.submit(self.ctx, req)

    @submit.validator
    def _validate_submit(self, req: SubmitRequest) -> None:
        submission.validate_submit(self.ctx)

    @workflow.update
    async def approve(self, by: str) -> ReturnState:
        self.ctx.update_begins()
        return await submission.approve(self.ctx, by)

    @approve.validator
    def _validate_approve(self, by: str) -> None:
        submission.validate_approve(self.ctx)

    @workflow.update
    async def reject(self, reason: str) -> ReturnState:
        self.ctx.update_begins()
        ctx = self.ctx
        ctx.reject_reason = ctx.storable(reason, "reject.reason")  # the shopper reads it, in the e-mail too
        ctx.transition("rejected", "rejected", reason=ctx.reject_reason)
        await project(ctx)
        return ctx.state

    @reject.validator
    def _validate_reject(self, reason: str) -> None:
        self.ctx.require("pending_approval")

    @workflow.update
    async def cancel(self, by: str) -> ReturnState:
        self.ctx.update_begins()
        ctx = self.ctx
        by = ctx.storable(by, "cancel.by")
        if by in ("", SHOPPER):
            ctx.transition("cancelled", "cancelled_by_shopper")
        else:
            ctx.transition("cancelled", "cancelled_by_shop", by=by)
        await project(ctx)
        return ctx.state

    @cancel.validator
    def _validate_cancel(self, by: str) -> None:
        self.ctx.require("pending_approval", "awaiting_shipment")

    @workflow.update
    async def reissue_label(self, by: str) -> ReturnState:
        """Void the current inbound labels (if still valid) and e-mail new ones; the expiry stays where it was."""
        self.ctx.update_begins()
        return await shipping.reissue(self.ctx, by)

    @reissue_label.validator
    def _validate_reissue(self, by: str) -> None:
        self.ctx.require("awaiting_shipment")
        if refusal := shipping.reissue_refusal(self.ctx):
            raise refusal

    @workflow.signal
    async def carrier_event(self, event: CarrierEvent) -> None:
        await tracking.carrier_event(self.ctx, event)

    @workflow.update
    async def close_receiving(self, by: str) -> ReturnState:
        """The warehouse takes what came: the return is received and the parcels that never arrived are logged."""
        self.ctx.update_begins()
        return await tracking.close_receiving(self.ctx, by)

    @close_receiving.validator
    def _validate_close_receiving(self, by: str) -> None:
        tracking.validate_close_receiving(self.ctx)

    @workflow.update
    async def record_inspection(self, inspection: Inspection) -> ReturnState:
        self.ctx.update_begins()
        return await inspection_stage.record(self.ctx, inspection)

    @record_inspection.validator
    def _validate_inspection(self, inspection: Inspection) -> None:
        inspection_stage.validate_record(self.ctx, inspection)

    @workflow.update
    async def review_refund(self, review: RefundReview) -> ReturnState:
        self.ctx.update_begins()
        return inspection_stage.take_review(self.ctx, review)

    @review_refund.validator
    def _validate_review(self, review: RefundReview) -> None:
        inspection_stage.validate_review(self.ctx, review)

    @workflow.update
    async def resolve(self, req: ResolveRequest) -> ReturnState:
        """A person's action on a return in the Exceptions queue (issue 17's table)."""
        self.ctx.update_begins()
        ctx = self.ctx
        ctx.payments.resolving = True
        try:
            await RESOLVERS[req.action](ctx, req)
        finally:
            ctx.payments.resolving = False
        return ctx.state

    @resolve.validator
    def _validate_resolve(self, req: ResolveRequest) -> None:
        ctx = self.ctx
        if ctx.current is None or req.action not in ctx.current.resolutions or req.action not in RESOLVERS:
            current = ctx.current.status if ctx.current else "not submitted"
            raise WrongStatus(f"status: {req.action} does not fit this return now (it is {current})")
        if ctx.payments.resolving:
            raise WrongStatus("status: another action on this return is being carried out")
        if req.action in PAYMENT_ACTIONS and req.amount is not None and req.amount > due(ctx):
            raise AmountTooLarge(f"amount: {req.amount} is more than the {due(ctx)} still owed")

    # --- the lifecycle --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: ReturnInput) -> str:
        ctx = self.ctx
        if not await submission.submit_arrives(ctx):
            return "abandoned"
        await workflow.wait_condition(lambda: ctx.submitted or ctx.invalid)
        if ctx.invalid:
            return "invalid"
        if ctx.kept:
            await resolution.resolve_kept(ctx)  # no parcel, no inspection
            return ctx.status()
        if ctx.status() == "pending_approval":
            await submission.await_approval(ctx)
        if ctx.status() == "awaiting_shipment":
            await shipping.mail_labels(ctx)
            await exchanging.ship_instantly(ctx)
            await shipping.await_shipment(ctx)  # the reminder and expiry, plus label validity
        status = ctx.status()
        if status in ("rejected", "cancelled", "expired"):
            await resolution.close_unshipped(ctx, status)
        else:
            if status == "in_transit":
                await tracking.await_delivery(ctx)
            if ctx.status() != "completed":  # a person closed it or paid it without the parcel (workflows.exceptions)
                await mail(ctx, "received", {})
                await inspection_stage.await_inspection(ctx)
                await resolution.resolve(ctx, await inspection_stage.review_if_needed(ctx))
        # An update still writing the read model (its activity retried after a worker crash) must finish, or its
        # caller hears "workflow completed before the update completed" for a change that was made.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ctx.status()
