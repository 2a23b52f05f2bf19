"""ReturnWorkflow: one return from submit to completion. Deterministic: all I/O is in activities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # Not `from workflows import exchange`: in that form the sandbox ran workflows/exchange.py again for every
    # workflow it started (a workflow class and a pydantic model built each time: a quarter of what starting a
    # workflow in the sandbox cost).
    import workflows.exchange as exchanges
    from activities.base import BAD_DATA
    from activities.carriers.local import LocalCarrier
    from activities.notifications import Notifications
    from activities.payments import Payments
    from activities.read_model import ReadModel
    from activities.store_credit import StoreCredits
    from domain import policy as rules
    from domain.exchanges import exchange_lines
    from domain.messages import (
        ClaimInput,
        ClaimResult,
        CreditInput,
        EmailInput,
        ExchangeInput,
        ExchangeLine,
        ExchangeResult,
        LabelRequest,
        RefundInput,
        ReturnInput,
        SubmitAnswer,
        SubmitRequest,
    )
    from domain.models import (
        Address,
        CarrierEvent,
        Decision,
        Inspection,
        LineDecision,
        Order,
        RefundReview,
        ReturnLineState,
        ReturnState,
        Shipment,
        Status,
        TimelineEntry,
    )
    from domain.money import format_amount
    from domain.text import scrub
    from workflows.exchange import ExchangeBook, ExchangeWorkflow
    from workflows.logistics import LogisticsMixin
    from workflows.options import RETRY, TIMEOUT

STATUS_KEY = SearchAttributeKey.for_keyword("ReturnStatus")
# Carrier scans that are logged (and mark the parcel) but never change a return's status.
TRACKING_NEWS = frozenset({"pre_transit", "out_for_delivery", "returned_to_sender"})
# The parcel statuses each such scan may follow; anything later means the scan arrived out of order.
TRACKING_BEFORE = {
    "pre_transit": frozenset({"label_created", "shipped"}),
    "out_for_delivery": frozenset({"label_created", "shipped", "pre_transit", "in_transit", "exception"}),
}
ORDER_KEY = SearchAttributeKey.for_keyword("OrderNumber")
# How long a started return waits for its first submit; update-with-start delivers it at once when all goes well.
SUBMIT_WAIT = timedelta(hours=1)
ALREADY_SUBMITTED = "this return was already submitted"
# How long a scan for a parcel the workflow has not taken in yet waits for its label (see _shipment_taken_in).
LABEL_WAIT = timedelta(minutes=10)
# Who did something, as a shopper reads it in the timeline; the person's name goes to TimelineEntry.by (staff only).
SHOPPER = "shopper"


@workflow.defn
class ReturnWorkflow(LogisticsMixin):
    @workflow.init
    def __init__(self, inp: ReturnInput) -> None:
        # Input at init: with update-with-start, `submit` may run before `run` does.
        self._input = inp
        self.inspected = False
        self.submitted = False  # set when `submit` has finished, label included
        self.submit_started = False
        self.state: ReturnState | None = None
        self.claim: ClaimResult | None = None
        self.invalid = False
        self.seen_events: set[str] = set()
        self.review: RefundReview | None = None
        self.approved_by = ""
        self.approving = False
        self.reject_reason = ""
        self.kept = False  # a "keep it" return: refunded without coming back
        self.exchange_book = ExchangeBook()
        # Values that reached the workflow with characters the database cannot store, cleaned (domain.text.scrub):
        # where they were. Staff see them as the return's attention until it ends.
        self.bad_data: list[str] = []

    # --- messages -------------------------------------------------------------------------------

    @workflow.query
    def get_state(self) -> ReturnState | None:
        return self.state

    @workflow.update
    async def submit(self, req: SubmitRequest) -> SubmitAnswer:
        self.submit_started = True
        info = workflow.info()
        req, bad = scrub(req, "submit")  # an exchange SKU is looked up in the database as it came
        self._bad_data(bad)
        self.claim = await workflow.execute_activity_method(
            ReadModel.claim,
            ClaimInput(
                return_id=info.workflow_id,
                order_number=self._input.order_number,
                lines=req.lines,
                now=workflow.now(),
            ),  # fmt: skip
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        decision = self.claim.decision
        if decision.ineligible:
            self.invalid = True
            raise ApplicationError("; ".join(decision.reasons), [x.model_dump() for x in decision.ineligible],
                                   type="IneligibleLines", non_retryable=True)  # fmt: skip
        await exchanges.price_at_submit(self, decision, req.lines)
        order = self.claim.order
        now = workflow.now()
        assert decision.status is not None
        self.state = ReturnState(
            id=info.workflow_id, order_number=order.number, email=order.email, currency=order.currency,
            status=decision.status, lines=[ReturnLineState(decision=x) for x in decision.lines],
            decision_reasons=decision.reasons, review_notes=decision.review_notes, refund_total=decision.refund_total,
            store_credit_total=decision.store_credit_total, fees_total=decision.fees_total,
            policy_version=self.claim.policy_version, created_at=now, updated_at=now,
        )  # fmt: skip
        self._log(decision.status, "return requested: " + "; ".join(decision.reasons))
        if self.bad_data:  # what the request held is flagged now that there is a return to flag
            self._calm()
        self._publish_status()
        self._set_parcels(req.parcels)
        if decision.approved and not self._keep_it(decision):
            await self._issue_label()
        await self._project()
        self.submitted = True
        return SubmitAnswer(**self.state.model_dump(), decision=decision)

    @submit.validator
    def _validate_submit(self, req: SubmitRequest) -> None:
        if self.claim is not None or self.invalid:
            raise ValueError(ALREADY_SUBMITTED)

    @workflow.update
    async def approve(self, by: str) -> ReturnState:
        self.approved_by = self._storable(by, "approve.by")
        self.approving = True  # from here on a second approve (a retried request) is refused
        await self._issue_label()  # before the status changes, so the run loop finds the label
        if self._status() != "pending_approval":  # rejected or cancelled while the label was made
            return self._now_state()
        self._transition("awaiting_shipment", "approved by the shop", by=self.approved_by)
        await self._project()
        return self._now_state()

    @approve.validator
    def _validate_approve(self, by: str) -> None:
        self._require("pending_approval")
        if self.approving:
            raise ValueError("status: this return is already being approved")

    @workflow.update
    async def reject(self, reason: str) -> ReturnState:
        self.reject_reason = self._storable(reason, "reject.reason")  # the shopper reads it, in the e-mail too
        self._transition("rejected", f"rejected: {self.reject_reason}")
        await self._project()
        return self._now_state()

    @reject.validator
    def _validate_reject(self, reason: str) -> None:
        self._require("pending_approval")

    @workflow.update
    async def cancel(self, by: str) -> ReturnState:
        by = self._storable(by, "cancel.by")
        if by in ("", SHOPPER):
            self._transition("cancelled", "cancelled by shopper")
        else:
            self._transition("cancelled", "cancelled by the shop", by=by)
        await self._project()
        return self._now_state()

    @cancel.validator
    def _validate_cancel(self, by: str) -> None:
        self._require("pending_approval", "awaiting_shipment")

    @workflow.update
    async def record_inspection(self, inspection: Inspection) -> ReturnState:
        state = self._now_state()
        by_id = {x.line_id: x for x in inspection.lines}
        for i, line in enumerate(state.lines):
            got = by_id[line.decision.line_id]
            line.accepted_quantity, line.condition = got.accepted_quantity, got.condition
            line.restock, line.note = got.restock, self._storable(got.note, f"lines[{i}].note")
        summary = ", ".join(f"{x.line_id}: {x.accepted_quantity} accepted ({x.condition})" for x in inspection.lines)
        by = self._storable(inspection.inspected_by, "inspection.inspected_by")
        self._log(state.status, f"inspected by the warehouse: {summary}", by=by)  # the notes are for staff
        self.inspected = True
        await self._project()
        return state

    @record_inspection.validator
    def _validate_inspection(self, inspection: Inspection) -> None:
        self._require("received")
        if self.inspected:
            raise ValueError("status: this return was already inspected")
        errors = rules.validate_inspection(self._now_state().lines, inspection)
        if errors:
            raise ValueError("; ".join(errors))

    @workflow.update
    async def review_refund(self, review: RefundReview) -> ReturnState:
        self.review, bad = scrub(review.model_copy(), "refund_review")
        self._bad_data(bad)
        return self._now_state()

    @review_refund.validator
    def _validate_review(self, review: RefundReview) -> None:
        self._require("pending_refund_review")
        if self.review is not None:
            raise ValueError("status: this refund was already reviewed")
        computed = sum(x.refund for x in self._settled())
        if review.approve and review.amount is not None and review.amount > computed:
            raise ValueError(f"amount: {review.amount} is more than the {computed} this return can refund")

    @workflow.signal
    async def carrier_event(self, event: CarrierEvent) -> None:
        state = self.state
        # The same scan may come again under a new webhook-id: its content is a key of its own.
        keys = {event.event_id, f"{event.tracking_number}:{event.event}:{event.occurred_at.isoformat()}"} - {""}
        if state is None or keys & self.seen_events:
            return
        self.seen_events |= keys
        ours = [s for s in state.shipments if s.tracking_number == event.tracking_number]
        if not ours:
            ours = await self._shipment_taken_in(event.tracking_number)
        if not ours:
            return
        shipment = ours[0]
        if shipment.status == "returned_to_sender":
            return  # the parcel is on its way back (or back): its later scans are not the return's
        before = shipment.status
        self._note_scan(shipment, event)  # workflows/logistics.py: parcel clocks and exceptions, no commands
        if event.event in TRACKING_NEWS:
            if not self._tracking_news(shipment, event, before):
                return  # late or repeated: changes nothing
        elif event.event == "exception":
            shipment.status = "exception"
            self._log(state.status, f"carrier reported a problem with parcel {event.tracking_number}")
        elif shipment.direction == "outbound":
            shipment.status = event.event
            self._log(state.status, f"exchange parcel {event.tracking_number}: {event.event.replace('_', ' ')}")
        elif event.event == "in_transit" and state.status == "awaiting_shipment":
            shipment.status = "in_transit"
            self._transition("in_transit", "parcel scanned by the carrier")
        elif event.event == "delivered" and state.status in ("awaiting_shipment", "in_transit"):
            shipment.status = "delivered"
            if not self._parcel_delivered(shipment):  # False once every parcel of the return is in
                self._transition("received", "parcel delivered to the warehouse")
        else:
            return  # late or repeated scans change nothing
        await self._project()

    async def _shipment_taken_in(self, tracking: str) -> list[Shipment]:
        """A read-model write is visible before its workflow task commits (a local activity, see _project). After a
        worker crash a scan sent on the strength of a label the read model showed can reach the replayed workflow in
        the same activation as that label's result, and signals run first: wait for the label, do not drop the scan."""
        state = self._now_state()

        def known() -> list[Shipment]:
            return [s for s in state.shipments if s.tracking_number == tracking]

        try:
            await workflow.wait_condition(lambda: bool(known()), timeout=LABEL_WAIT)
        except TimeoutError:
            pass  # not this return's parcel after all
        return known()

    def _tracking_news(self, shipment: Shipment, event: CarrierEvent, before: str) -> bool:
        """Scans that move no return forward (kinds older histories never carry): log them, mark the parcel.
        True when something changed; a scan older than what the parcel showed (`before`) changes nothing."""
        state = self._now_state()
        tracking = event.tracking_number
        if event.event == "returned_to_sender":
            if before in ("delivered", "voided"):
                return False
            shipment.status = "returned_to_sender"
            where = "to the warehouse" if shipment.direction == "outbound" else "to the shopper"
            self._log(state.status, f"parcel {tracking} was returned {where} by the carrier: contact the shopper")
            return True
        if before not in TRACKING_BEFORE[event.event]:
            return False
        shipment.status = event.event
        self._log(state.status, f"parcel {tracking}: {event.event.replace('_', ' ')}")
        return True

    # --- the lifecycle --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: ReturnInput) -> str:
        if not await self._submit_arrives():
            return "abandoned"
        await workflow.wait_condition(lambda: self.submitted or self.invalid)
        if self.invalid:
            return "invalid"
        if self.kept:
            return await self._resolve_kept()
        if self._status() == "pending_approval":
            await self._send("submitted", {})
            await self._wait_while("pending_approval", self._policy.approval_reminder_days)
        if self._status() == "awaiting_shipment":
            await self._send_label_mail()
            await exchanges.ship_instantly(self)
            await self._await_shipment_and_labels()  # the reminder and expiry, plus label validity
        status = self._status()
        if status in ("rejected", "cancelled", "expired"):
            return await self._close_unshipped(status)
        if status == "in_transit":
            await self._await_delivery()
        await self._send("received", {})
        await self._wait_for(lambda: self.inspected, self._policy.inspection_reminder_days)
        settled = self._settled()
        assert self.claim is not None
        why = rules.needs_review(self._now_state().lines, settled, self._policy, self.claim.others_value)
        if why:
            self._transition("pending_refund_review", "finance review: " + "; ".join(why))
            await self._project()
            await workflow.wait_condition(lambda: self.review is not None)
            settled = self._apply_review(settled)
        await self._resolve(settled)
        # An update still writing the read model (its activity retried after a worker crash) must finish, or its
        # caller hears "workflow completed before the update completed" for a change that was made.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    async def _submit_arrives(self) -> bool:
        """False when no submit started within SUBMIT_WAIT of the start: the start was kept but its submit was lost
        (the engine restarted during update-with-start; the shopper was told to retry and filed anew)."""
        try:
            await workflow.wait_condition(lambda: self.submit_started or self.invalid, timeout=SUBMIT_WAIT)
            return True
        except TimeoutError:
            if ORDER_KEY in workflow.info().typed_search_attributes:
                workflow.upsert_search_attributes([STATUS_KEY.value_set("abandoned")])
            return False

    def _keep_it(self, decision: Decision) -> bool:
        """Refund without return (policy keep_it_below): no label, no parcel, no inspection."""
        if not decision.keep_it:
            return False
        self.kept = True
        self._transition("received", "keep it: no need to send the items back; the refund follows at once")
        return True

    async def _resolve_kept(self) -> str:
        """Every line counts as accepted in full and is paid as decided (the decision waived all fees)."""
        state = self._now_state()
        for line in state.lines:
            line.accepted_quantity = line.decision.quantity
        self.inspected = True
        await self._resolve([x.decision.model_copy() for x in state.lines])
        return self._status()

    async def _close_unshipped(self, status: str) -> str:
        for shipment in self._now_state().shipments:
            if shipment.direction == "outbound":
                continue  # an instant exchange's replacement is already on its way
            await workflow.execute_activity_method(
                LocalCarrier.void_label, shipment.tracking_number, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
            )
            shipment.status = "voided"
        await exchanges.close_unshipped(self, status)
        self._touch()
        await self._project()
        context = {"reason": self.reject_reason, "expiry_days": self._policy.shipment_expiry_days}
        await self._send(status, context)
        await workflow.wait_condition(workflow.all_handlers_finished)  # see the end of run()
        return status

    async def _resolve(self, settled: list[LineDecision]) -> None:
        state = self._now_state()
        order = self._order
        accepted = {x.decision.line_id: x.accepted_quantity or 0 for x in state.lines}
        exchange = [x for x in settled if x.resolution == "exchange" and accepted[x.line_id] > 0]
        outcome: ExchangeResult | None = None
        if exchange_lines(settled):
            outcome = await exchanges.settle(self, settled, accepted)
        elif exchange:
            outcome = await workflow.execute_child_workflow(
                ExchangeWorkflow.run,
                ExchangeInput(return_id=state.id,
                              lines=[ExchangeLine(line_id=x.line_id, sku=x.exchange_sku or x.sku,
                                                  quantity=accepted[x.line_id]) for x in exchange],
                              ship_to=_address_lines(order.shipping_address), warehouse_id=state.warehouse_id),
                id=f"{state.id}-exchange",
            )  # fmt: skip
            for x in exchange:
                if x.line_id in outcome.out_of_stock:
                    x.refund = x.value  # the replacement is gone: the shopper gets the money back
            if outcome.shipment:
                state.shipments.append(outcome.shipment)
            if outcome.out_of_stock:
                self._log(
                    state.status,
                    "replacement out of stock for " + ", ".join(outcome.out_of_stock) + ": refunded",
                )
        for x in settled:
            if x.refund > 0:
                await workflow.execute_activity_method(
                    Payments.refund,
                    RefundInput(key=f"{state.id}:refund:{x.line_id}", return_id=state.id,
                                payment_reference=order.payment.reference, amount=x.refund, currency=order.currency),
                    start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
                )  # fmt: skip
        credit = sum(x.store_credit for x in settled)
        expiry = self._credit_expiry()
        if credit > 0:
            granted = await workflow.execute_activity_method(
                StoreCredits.grant,
                CreditInput(key=f"{state.id}:credit", return_id=state.id, email=state.email,
                            currency=state.currency, amount=credit, bonus=_bonus(settled),
                            expires_at=expiry),
                start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
            )  # fmt: skip
            state.store_credit_code = granted.code
        by_id = {x.line_id: x for x in settled}
        for line in state.lines:
            d = by_id[line.decision.line_id]
            line.refunded, line.credited = d.refund, d.store_credit
            if outcome and d.line_id in outcome.shipped:
                line.exchanged_quantity = accepted[d.line_id]
        state.refund_total = sum(x.refund for x in settled)
        state.store_credit_total = credit
        state.fees_total = sum(x.fee for x in settled if x.refund > 0 or x.resolution != "refund")
        self._transition("completed", _completion_message(state))
        await self._project()
        await self._send("completed", {
            "refund_total": state.refund_total, "fees_total": state.fees_total,
            "store_credit_total": credit, "store_credit_code": state.store_credit_code or "",
            "store_credit_expires": expiry.date().isoformat() if expiry and credit else "",
            "exchange_tracking": outcome.shipment.tracking_number if outcome and outcome.shipment else "",
        })  # fmt: skip

    # --- helpers --------------------------------------------------------------------------------

    @property
    def _policy(self) -> rules.PolicySettings:
        assert self.claim is not None
        return self.claim.policy

    @property
    def _order(self) -> Order:
        assert self.claim is not None
        return self.claim.order

    def _now_state(self) -> ReturnState:
        assert self.state is not None
        return self.state

    def _status(self) -> str:
        return self._now_state().status

    def _require(self, *allowed: str) -> None:
        if self.state is None or self.state.status not in allowed:
            current = self.state.status if self.state else "not submitted"
            raise ValueError(f"status: the return is {current}; this needs {' or '.join(allowed)}")

    def _settled(self) -> list[LineDecision]:
        return rules.settle(self._now_state().lines, self._policy)

    def _apply_review(self, settled: list[LineDecision]) -> list[LineDecision]:
        review = self.review
        assert review is not None
        # Finance's note says why, for staff: it stays out of the message the shopper reads.
        if not review.approve:
            for x in settled:
                x.refund = 0
            self._log(self._status(), "refund denied by the shop", by=review.reviewed_by, note=review.note)
            return settled
        if review.amount is not None:
            settled = rules.apply_review_amount(settled, review.amount)
        total = format_amount(sum(x.refund for x in settled), self._now_state().currency)
        self._log(self._status(), f"refund of {total} approved by the shop", by=review.reviewed_by, note=review.note)
        return settled

    def _credit_expiry(self) -> datetime | None:
        days = self._policy.store_credit_expiry_days
        return workflow.now() + timedelta(days=days) if days else None

    def _touch(self) -> None:
        state = self._now_state()
        state.updated_at = workflow.now()
        state.version += 1

    def _log(self, status: str, message: str, by: str = "", note: str = "") -> None:
        state = self._now_state()
        state.timeline.append(TimelineEntry(seq=len(state.timeline) + 1, at=workflow.now(), status=status,
                                            message=message, by=by, note=note))  # fmt: skip
        self._touch()

    def _transition(self, status: Status, message: str, by: str = "") -> None:
        self._now_state().status = status
        self._log(status, message, by=by)
        self._publish_status()

    # --- values the database cannot store (domain.text.scrub) ----------------------------------------

    def _storable(self, value: str, path: str) -> str:
        clean, bad = scrub(value, path)
        self._bad_data(bad)
        return clean

    def _bad_data(self, paths: list[str]) -> None:
        """Remember where such values were; once the return exists, flag it for staff (and keep it flagged)."""
        new = [x for x in paths if x not in self.bad_data]
        self.bad_data += new
        if new and self.state is not None:
            self._calm()

    def _calm(self) -> None:
        """The attention that stays once a parcel's problem is over: the bad data, if any."""
        state = self._now_state()
        state.attention = bool(self.bad_data)
        state.attention_reason = "bad_data: " + ", ".join(self.bad_data) if self.bad_data else ""

    @staticmethod
    def _refused(e: ActivityError) -> str | None:
        """The reason an activity gave when the database refused its input (activities.base.bad_data_is_final)."""
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == BAD_DATA:
            return cause.message.removeprefix("bad_data: ")
        return None

    def _publish_status(self) -> None:
        # Kept only when the starter registered them (the time-skipping test server has none).
        if ORDER_KEY in workflow.info().typed_search_attributes:
            workflow.upsert_search_attributes([STATUS_KEY.value_set(self._status())])

    async def _project(self) -> None:
        state = self._now_state()
        # A value PostgreSQL cannot store (NUL, a lone surrogate) made the projection fail at every attempt, and
        # retrying it froze the read model while the workflow went on: clean it here, deterministically, and flag it.
        _, bad = scrub(state)
        if bad:
            self._bad_data(bad)
            self._touch()
        try:
            # Run by this worker inside the workflow task: no task-queue round trip and no history events for
            # each of a return's read-model writes (most of the Temporal server's work per return beyond the bare
            # workflow's, bench/README.md). Its write can be seen before the task commits: see _shipment_taken_in.
            await workflow.execute_local_activity_method(
                ReadModel.project, state, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
            )
        except ActivityError as e:
            # Refused for a reason scrub() does not know: the activity flagged the row, and the next projection tries
            # again with the workflow flagged as well. Retrying the same refusal would never end.
            if (refused := self._refused(e)) is None:
                raise
            self._bad_data([refused])
            self._touch()

    async def _issue_label(self) -> None:
        state = self._now_state()
        if any(s.direction == "inbound" for s in state.shipments):
            return
        if self._lx.parcels > 1:  # only returns submitted with several parcels, which older histories never are
            await self._issue_parcel_labels()
            return
        shipment: Shipment = await workflow.execute_activity_method(
            LocalCarrier.create_label,
            LabelRequest(
                return_id=state.id,
                direction="inbound",
                ship_from=_address_lines(self._order.shipping_address),
                # Routing (settings.routing) and carrier APIs; more input, the same command.
                country=self._order.shipping_address.country.upper(),
                skus=[x.decision.sku for x in state.lines],
                shopper_address=self._order.shipping_address,
                shopper_email=state.email,
            ),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        state.shipments.append(shipment)
        state.warehouse_id = shipment.warehouse_id
        self._log(state.status, f"return label issued, tracking number {shipment.tracking_number}")

    async def _send_label_mail(self) -> None:
        if self._lx.parcels > 1:
            await self._send_parcel_labels_mail()
            return
        inbound = next(s for s in self._now_state().shipments if s.direction == "inbound")
        # A carrier API's label is a link to the carrier's file (no PDF of ours to attach).
        link = inbound.label_url if inbound.label_url.startswith("https://") else ""
        await self._send("label", {"tracking_number": inbound.tracking_number,
                                   "expiry_days": self._policy.shipment_expiry_days, "label_link": link},
                         attach=inbound.tracking_number)  # fmt: skip

    async def _send(self, kind: str, context: dict[str, object], attach: str | None = None) -> None:
        state = self._now_state()
        base = {"order_number": state.order_number, "currency": state.currency, "status": state.status,
                "reasons": state.decision_reasons,
                "tracking_number": next((s.tracking_number for s in state.shipments), "")}  # fmt: skip
        await self._email(EmailInput(return_id=state.id, kind=kind, to=state.email, context={**base, **context},
                                     attach_label=attach))  # fmt: skip

    async def _email(self, inp: EmailInput) -> None:
        """Send one e-mail; one that cannot be encoded (activities.base.bad_data_is_final) is not sent, and the
        return is flagged for staff instead of the activity being retried forever."""
        _, bad = scrub(inp.context, f"email.{inp.kind}")
        self._bad_data(bad)
        try:
            await workflow.execute_activity_method(
                Notifications.send, inp, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
            )
        except ActivityError as e:
            if (refused := self._refused(e)) is None:
                raise
            self._bad_data([f"e-mail {inp.kind} not sent ({refused})"])
            self._touch()
            await self._project()

    async def _wait_until_left(self, status: str, timeout: timedelta) -> bool:
        """Wait up to `timeout` for the return to leave `status`; True when it did."""
        try:
            await workflow.wait_condition(lambda: self._status() != status, timeout=timeout)
            return True
        except TimeoutError:
            return False

    async def _wait_while(self, status: str, reminder_days: int) -> None:
        while not await self._wait_until_left(status, timedelta(days=reminder_days)):
            self._log(status, f"still {status.replace('_', ' ')} after a reminder period")
            await self._project()

    async def _wait_for(self, condition: Callable[[], bool], reminder_days: int) -> None:
        while True:
            try:
                await workflow.wait_condition(condition, timeout=timedelta(days=reminder_days))
                return
            except TimeoutError:
                self._log(self._status(), "reminder: still waiting for inspection")
                await self._project()


def _address_lines(address: Address) -> list[str]:
    city = " ".join(x for x in (address.postal_code, address.city) if x)
    return [x for x in (address.name, address.line1, address.line2, city, address.region, address.country) if x]


def _bonus(settled: list[LineDecision]) -> int:
    """What the policy added for choosing store credit instead of a refund."""
    return sum(max(x.store_credit - x.value, 0) for x in settled if x.resolution == "store_credit")


def _completion_message(state: ReturnState) -> str:
    parts = []
    if state.refund_total:
        parts.append(f"refunded {format_amount(state.refund_total, state.currency)}")
    if state.store_credit_total:
        parts.append(f"store credit {format_amount(state.store_credit_total, state.currency)}")
    if any(x.exchanged_quantity for x in state.lines):
        parts.append("exchange shipped")
    return "completed: " + (", ".join(parts) if parts else "nothing to pay back")
