"""The parcels of a return: label validity and reissue, parcels that stop moving, several parcels per return.

A mixin of ReturnWorkflow, so its updates are the workflow's own. Deterministic like the rest: time is
workflow.now() and timers, every side effect is an activity.

Decisions (README, "Logistics"):
- An unused label is voided `label_validity_days` after it was issued, only when that comes before the
  return's expiry (otherwise the expiry voids it anyway). The shopper is told and can get a new one.
- A reissue does not move the expiry: the return still expires `shipment_expiry_days` after it became
  awaiting_shipment, so asking for new labels cannot keep a return open forever. The new labels are valid
  for `label_validity_days` from the reissue (within that same expiry).
- A parcel with no carrier scan for `stuck_parcel_days` after it was last seen moving is an exception: its
  shipment is marked, the return is flagged for staff (`attention`), the shopper gets an e-mail. Any later
  scan of that parcel clears it. A carrier-reported exception flags the return too.
- With several parcels the return is received when every parcel is delivered, or when the warehouse closes
  receiving, which logs the parcels that never arrived (and voids their labels when they were never used).
- New labels are limited to `label_reissues_per_day` in any 24 hours: each reissue voids and makes a label per
  parcel (bought again from a carrier API) and mails them all, so an unlimited button made hundreds of labels and
  a history of thousands of events. Past it the update is refused as RATE_LIMITED, with the seconds until the
  oldest of those reissues is 24 hours old; the API answers 429 with that as Retry-After.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from domain import policy as rules
    from domain.messages import EmailInput, LabelRequest
    from domain.models import MAX_PARCELS, CarrierEvent, Order, ReturnState, Shipment, Status
    from workflows.options import RETRY, TIMEOUT

# Scans of a parcel on its way. pre_transit is not one: the carrier only has the label data, nothing moved.
MOVING = ("in_transit", "out_for_delivery")
# Never less than this between two timer checks, so a deadline that is due now cannot spin.
TICK = timedelta(seconds=1)
# The failure type of a refused reissue: its details are the seconds to wait and the time it can be asked again.
RATE_LIMITED = "RateLimited"
REISSUE_WINDOW = timedelta(hours=24)


@dataclass
class Logistics:
    """The mixin's own workflow state, rebuilt on replay like the rest."""

    parcels: int = 1
    generation: int = 0  # bumped when labels are reissued or voided: the shipment loop recomputes its timers
    labels_from: datetime | None = None  # when the current labels were issued
    last_scan: dict[str, datetime] = field(default_factory=dict)  # tracking -> when it was last scanned
    scans: int = 0
    stuck: set[str] = field(default_factory=set)
    flags: int = 0  # how many times a parcel was flagged stuck: part of each e-mail's once-only key
    dirty: bool = False  # a scan changed the state and nobody has projected it yet
    reissued: list[datetime] = field(default_factory=list)  # when labels were reissued, within REISSUE_WINDOW
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LogisticsMixin:
    if TYPE_CHECKING:  # provided by ReturnWorkflow

        def _now_state(self) -> ReturnState: ...
        def _status(self) -> str: ...
        def _log(self, status: str, message: str, by: str = "", note: str = "") -> None: ...
        def _transition(self, status: Status, message: str, by: str = "") -> None: ...
        def _storable(self, value: str, path: str) -> str: ...
        def _calm(self) -> None: ...
        async def _email(self, inp: EmailInput) -> None: ...
        def _require(self, *allowed: str) -> None: ...
        async def _project(self) -> None: ...
        async def _send(self, kind: str, context: dict[str, object], attach: str | None = None) -> None: ...

        @property
        def _policy(self) -> rules.PolicySettings: ...

        @property
        def _order(self) -> Order: ...

    @property
    def _lx(self) -> Logistics:
        lx = self.__dict__.get("_logistics")
        if lx is None:
            lx = self.__dict__["_logistics"] = Logistics()
        return lx

    # --- messages -------------------------------------------------------------------------------

    @workflow.update
    async def reissue_label(self, by: str) -> ReturnState:
        """Void the current inbound labels (if still valid) and e-mail new ones; the expiry stays where it was."""
        lx = self._lx
        by = self._storable(by, "reissue_label.by")
        async with lx.lock:
            state = self._now_state()
            if state.status != "awaiting_shipment":  # it moved on while another label change ran
                return state
            # Again here: the validators of updates that arrive together all run before any of these handlers.
            if refusal := self._reissue_refusal():
                raise refusal
            now = workflow.now()
            lx.reissued = [t for t in lx.reissued if t > now - REISSUE_WINDOW] + [now]
            await self._void_labels(self._valid_labels())
            lx.generation += 1
            lx.labels_from = workflow.now()
            new = await self._create_labels()
            numbers = ", ".join(s.tracking_number for s in new)
            shopper = by in ("", "shopper")
            self._log(state.status, f"new return label issued at the request of {'shopper' if shopper else 'the shop'}, "
                                    f"tracking number {numbers}", by="" if shopper else by)  # fmt: skip
            await self._project()
            await self._mail("label_reissued", {"tracking_numbers": [s.tracking_number for s in new],
                                                "expires_on": self._expires_on()},
                             dedupe=f"g{lx.generation}", labels=new)  # fmt: skip
            return state

    @reissue_label.validator
    def _validate_reissue(self, by: str) -> None:
        self._require("awaiting_shipment")
        if refusal := self._reissue_refusal():
            raise refusal

    def _reissue_refusal(self) -> ApplicationError | None:
        """Why a new label cannot be had now (label_reissues_per_day reached), or None."""
        limit, now = self._policy.label_reissues_per_day, workflow.now()
        recent = sorted(t for t in self._lx.reissued if t > now - REISSUE_WINDOW)
        if len(recent) < limit:
            return None
        again = recent[-limit] + REISSUE_WINDOW  # when the oldest reissue that counts is 24 hours old
        wait = max(1, math.ceil((again - now).total_seconds()))
        return ApplicationError(
            f"label: new labels were issued {len(recent)} times in the last 24 hours, the most allowed; "
            f"ask again after {again.isoformat(timespec='seconds')}",
            wait, again.isoformat(), type=RATE_LIMITED, non_retryable=True,
        )  # fmt: skip

    @workflow.update
    async def close_receiving(self, by: str) -> ReturnState:
        """The warehouse takes what came: the return is received and the parcels that never arrived are logged."""
        state = self._now_state()
        by = self._storable(by, "close_receiving.by")
        missing = self._missing_parcels()
        unused = [s for s in missing if s.status == "label_created"]
        await self._void_labels(unused)  # never scanned: the carrier refunds an unused label
        if state.status != "in_transit":  # the last parcel was delivered meanwhile: received already
            return state
        for s in missing:
            s.status = "missing"
        self._lx.stuck.clear()
        self._calm()
        names = ", ".join(f"{s.parcel}/{s.parcels} ({s.tracking_number})" for s in missing) or "none"
        self._transition("received", f"receiving closed by the warehouse; parcels that never arrived: {names}", by=by)
        await self._project()
        return state

    @close_receiving.validator
    def _validate_close_receiving(self, by: str) -> None:
        self._require("in_transit")
        if not any(s.status == "delivered" for s in self._inbound()):
            raise ValueError("status: no parcel of this return has been delivered yet")

    # --- hooks called from ReturnWorkflow -------------------------------------------------------

    def _set_parcels(self, parcels: int) -> None:
        self._lx.parcels = min(max(1, parcels), MAX_PARCELS)  # the API checks it; a direct client may not

    def _note_scan(self, shipment: Shipment, event: CarrierEvent) -> None:
        """From carrier_event, before it acts: remember the scan, flag or clear an exception. No commands."""
        if shipment.direction != "inbound":
            return
        lx, state = self._lx, self._now_state()
        lx.last_scan[shipment.tracking_number] = workflow.now()
        lx.scans += 1
        if state.status not in ("awaiting_shipment", "in_transit"):
            return  # a late scan of a return already received or closed needs nobody's attention
        if event.event == "exception":
            state.attention = True
            state.attention_reason = f"carrier reported a problem with parcel {shipment.tracking_number}"
            return
        if event.event == "returned_to_sender":  # it will not reach the warehouse: someone must call the shopper
            state.attention = True
            state.attention_reason = f"parcel {shipment.tracking_number} was returned to the shopper by the carrier"
            return
        if shipment.tracking_number in lx.stuck or shipment.status == "exception":
            lx.stuck.discard(shipment.tracking_number)
            if event.event in MOVING or event.event == "delivered":
                shipment.status = event.event
            self._log(state.status, f"parcel {shipment.tracking_number} scanned again "
                                    f"({event.event.replace('_', ' ')}): exception cleared")  # fmt: skip
            self._refresh_attention()
            lx.dirty = True
        elif event.event in MOVING and shipment.status == "label_created" and state.status == "in_transit":
            shipment.status = event.event  # a second parcel on its way: the return itself is already in transit
            lx.dirty = True

    def _parcel_delivered(self, shipment: Shipment) -> bool:
        """From carrier_event on a delivery: True when parcels are still out (the return is not received yet)."""
        missing = self._missing_parcels()
        if not missing:
            return False
        state = self._now_state()
        message = (f"parcel {shipment.parcel}/{shipment.parcels} delivered to the warehouse; "
                   f"waiting for {len(missing)} more")  # fmt: skip
        if state.status == "awaiting_shipment":
            self._transition("in_transit", message)
        else:
            self._log(state.status, message)
        return True

    # --- waiting for the shopper to ship ---------------------------------------------------------

    async def _await_shipment_and_labels(self) -> None:
        """The shipment reminder and expiry (policy), plus the label validity timer."""
        lx, policy = self._lx, self._policy
        start = workflow.now()
        expiry_at = start + timedelta(days=policy.shipment_expiry_days)
        reminder_at = start + timedelta(days=policy.shipment_reminder_days)
        reminded = reminder_at >= expiry_at
        lx.labels_from = lx.labels_from or start
        while True:
            void_at = self._void_at(expiry_at)
            due = [expiry_at] + ([] if reminded else [reminder_at]) + ([void_at] if void_at else [])
            generation = lx.generation

            def relabelled(g: int = generation) -> bool:
                return self._status() != "awaiting_shipment" or lx.generation != g

            try:
                await workflow.wait_condition(
                    relabelled,
                    timeout=max(min(due) - workflow.now(), TICK),
                )
                if self._status() != "awaiting_shipment":
                    return
                continue  # new labels: new timers
            except TimeoutError:
                pass
            now = workflow.now()
            if void_at and now >= void_at:
                await self._expire_labels()
            elif not reminded and now >= reminder_at:
                reminded = True
                await self._send("shipment_reminder", {"expires_on": expiry_at.date().isoformat()})
            elif now >= expiry_at:
                self._transition("expired", f"no carrier scan within {policy.shipment_expiry_days} days")
                return

    def _void_at(self, expiry_at: datetime) -> datetime | None:
        lx = self._lx
        if lx.labels_from is None or not any(s.status == "label_created" for s in self._valid_labels()):
            return None
        at = lx.labels_from + timedelta(days=self._policy.label_validity_days)
        return at if at < expiry_at else None

    async def _expire_labels(self) -> None:
        lx = self._lx
        async with lx.lock:
            state = self._now_state()
            unused = [s for s in self._valid_labels() if s.status == "label_created"]
            if state.status != "awaiting_shipment" or not unused:
                return
            await self._void_labels(unused)
            lx.generation += 1
            days = self._policy.label_validity_days
            numbers = ", ".join(s.tracking_number for s in unused)
            self._log(state.status, f"return label {numbers} was not used within {days} days and is void; "
                                    "a new one can be requested from the portal")  # fmt: skip
            await self._project()
            await self._mail("label_expired", {"validity_days": days, "expires_on": self._expires_on()},
                             dedupe=f"g{lx.generation}")  # fmt: skip

    def _expires_on(self) -> str:
        """The day the return expires: shipment_expiry_days after it started waiting for the parcel."""
        state = self._now_state()
        started = next((t.at for t in state.timeline if t.status == "awaiting_shipment"), state.created_at)
        return (started + timedelta(days=self._policy.shipment_expiry_days)).date().isoformat()

    # --- in transit: parcels that stop moving ---------------------------------------------------

    async def _await_delivery(self) -> None:
        """Wait while in transit; a parcel not scanned for stuck_parcel_days becomes an exception."""
        lx = self._lx
        quiet = timedelta(days=self._policy.stuck_parcel_days)
        entered = workflow.now()
        while self._status() == "in_transit":
            if lx.dirty:
                lx.dirty = False
                await self._project()
                continue
            due = {
                s.tracking_number: lx.last_scan.get(s.tracking_number, entered) + quiet
                for s in self._inbound()
                if s.status in MOVING and s.tracking_number not in lx.stuck
            }
            scans = lx.scans
            woken = lambda n=scans: self._status() != "in_transit" or lx.scans != n or lx.dirty  # noqa: E731
            if not due:
                await workflow.wait_condition(woken)
                continue
            try:
                await workflow.wait_condition(woken, timeout=max(min(due.values()) - workflow.now(), TICK))
                continue
            except TimeoutError:
                pass
            now = workflow.now()
            for tracking in sorted(t for t, at in due.items() if at <= now):
                await self._flag_stuck(tracking)
        if lx.dirty:
            lx.dirty = False
            await self._project()

    async def _flag_stuck(self, tracking: str) -> None:
        lx, state = self._lx, self._now_state()
        shipment = next(s for s in self._inbound() if s.tracking_number == tracking)
        days = self._policy.stuck_parcel_days
        lx.stuck.add(tracking)
        lx.flags += 1
        shipment.status = "exception"
        state.attention = True
        state.attention_reason = f"parcel {tracking} has had no carrier scan for {days} days"
        self._log(state.status, f"parcel {tracking} has had no carrier scan for {days} days: marked as an exception")
        await self._project()
        await self._mail("parcel_stuck", {"tracking_number": tracking, "days": days,
                                          "parcel": shipment.parcel, "parcels": shipment.parcels},
                         dedupe=f"{tracking}:{lx.flags}")  # fmt: skip

    def _refresh_attention(self) -> None:
        if self._lx.stuck or any(s.status in ("exception", "returned_to_sender") for s in self._inbound()):
            return
        self._calm()

    # --- labels ----------------------------------------------------------------------------------

    def _inbound(self) -> list[Shipment]:
        return [s for s in self._now_state().shipments if s.direction == "inbound"]

    def _valid_labels(self) -> list[Shipment]:
        return [s for s in self._inbound() if s.status not in ("voided", "missing")]

    def _missing_parcels(self) -> list[Shipment]:
        """The current label of each parcel number that has not been delivered under any of its labels."""
        inbound = self._inbound()
        delivered = {s.parcel for s in inbound if s.status == "delivered"}
        return [s for s in self._valid_labels() if s.parcel not in delivered and s.status != "delivered"]

    async def _create_labels(self) -> list[Shipment]:
        """One label per parcel; create_label is idempotent per return, direction and parcel."""
        state, order, lx = self._now_state(), self._order, self._lx
        address = order.shipping_address
        city = " ".join(x for x in (address.postal_code, address.city) if x)
        ship_from = [x for x in (address.name, address.line1, address.line2, city, address.region, address.country)
                     if x]  # fmt: skip
        made = []
        for n in range(1, lx.parcels + 1):
            shipment: Shipment = await workflow.execute_activity_method(
                LocalCarrier.create_label,
                LabelRequest(return_id=state.id, direction="inbound", ship_from=ship_from, parcel=n,
                             parcels=lx.parcels, country=address.country.upper(), shopper_address=address,
                             shopper_email=state.email, skus=[x.decision.sku for x in state.lines],
                             warehouse_id=state.warehouse_id),
                start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
            )  # fmt: skip
            shipment.parcel, shipment.parcels = n, lx.parcels
            state.warehouse_id = state.warehouse_id or shipment.warehouse_id
            state.shipments.append(shipment)
            made.append(shipment)
        return made

    async def _issue_parcel_labels(self) -> None:
        """ReturnWorkflow._issue_label for a return shipped in several parcels."""
        state = self._now_state()
        self._lx.labels_from = workflow.now()
        made = await self._create_labels()
        self._log(state.status, f"{len(made)} return labels issued, tracking numbers "
                                + ", ".join(s.tracking_number for s in made))  # fmt: skip

    async def _send_parcel_labels_mail(self) -> None:
        labels = self._valid_labels()
        await self._mail("label", {"tracking_number": labels[0].tracking_number,
                                   "expiry_days": self._policy.shipment_expiry_days,
                                   "tracking_numbers": [s.tracking_number for s in labels]}, labels=labels)  # fmt: skip

    async def _void_labels(self, shipments: list[Shipment]) -> None:
        for s in shipments:
            await workflow.execute_activity_method(
                LocalCarrier.void_label, s.tracking_number, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
            )
            s.status = "voided"

    async def _mail(
        self, kind: str, context: dict[str, object], dedupe: str = "", labels: list[Shipment] | None = None
    ) -> None:
        state = self._now_state()
        labels = labels or []
        base = {"order_number": state.order_number, "currency": state.currency, "status": state.status,
                "reasons": state.decision_reasons,
                "tracking_number": next((s.tracking_number for s in self._valid_labels()), "")}  # fmt: skip
        await self._email(EmailInput(return_id=state.id, kind=kind, to=state.email, context={**base, **context},
                                     dedupe=dedupe, attach_label=labels[0].tracking_number if labels else None,
                                     attach_labels=[s.tracking_number for s in labels[1:]]))  # fmt: skip
