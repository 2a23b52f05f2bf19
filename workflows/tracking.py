"""Tracking: carrier scans, parcels on their way, parcels that stop moving, and receiving.

Decisions (README, "Logistics"):
- Duplicates and out-of-order scans are harmless: a scan is taken once (by webhook id and by content) and a scan
  older than what the parcel shows changes nothing.
- A parcel with no carrier scan for `stuck_parcel_days` after it was last seen moving is an exception: its
  shipment is marked, the return is flagged for staff (`attention`), the shopper gets an e-mail. Any later
  scan of that parcel clears it. A carrier-reported exception flags the return too.
- With several parcels the return is received when every parcel is delivered, or when the warehouse closes
  receiving, which logs the parcels that never arrived (and voids their labels when they were never used).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.exceptions as exceptions
    from domain.models import CarrierEvent, ReturnState, Shipment
    from workflows.context import ReturnContext
    from workflows.publish import mail, project
    from workflows.shipping import TICK, void_labels

# Carrier scans that are logged (and mark the parcel) but never change a return's status.
TRACKING_NEWS = frozenset({"pre_transit", "out_for_delivery", "returned_to_sender"})
# The parcel statuses each such scan may follow; anything later means the scan arrived out of order.
TRACKING_BEFORE = {
    "pre_transit": frozenset({"label_created", "shipped"}),
    "out_for_delivery": frozenset({"label_created", "shipped", "pre_transit", "in_transit", "exception"}),
}
# Scans of a parcel on its way. pre_transit is not one: the carrier only has the label data, nothing moved.
MOVING = ("in_transit", "out_for_delivery")
# How long a scan for a parcel the workflow has not taken in yet waits for its label (see _taken_in).
LABEL_WAIT = timedelta(minutes=10)
# A stuck parcel with no scan for this many times stuck_parcel_days is taken as lost (`parcel_lost`).
LOST_AFTER = 3
# Scans of an expired return's parcel that happened before the expiry and take the return on as if on time.
ON_TIME = {"in_transit": "in_transit", "out_for_delivery": "in_transit", "delivered": "delivered"}


async def carrier_event(ctx: ReturnContext, event: CarrierEvent) -> None:
    """The `carrier_event` signal: move the parcel and the return on, once per scan."""
    state = ctx.current
    # The same scan may come again under a new webhook-id: its content is a key of its own.
    keys = {event.event_id, f"{event.tracking_number}:{event.event}:{event.occurred_at.isoformat()}"} - {""}
    if state is None or keys & ctx.seen_events:
        return
    ctx.seen_events |= keys
    ours = [s for s in state.shipments if s.tracking_number == event.tracking_number]
    if not ours:
        ours = await _taken_in(ctx, event.tracking_number)
    if not ours:
        return
    shipment = ours[0]
    if shipment.status == "returned_to_sender":
        return  # the parcel is on its way back (or back): its later scans are not the return's
    if shipment.status == "delivered" and state.status not in ("awaiting_shipment", "in_transit", "expired"):
        return  # received (at the dock, or delivered): the carrier's later scans change nothing
    if state.status == "expired":
        on_time = _late(ctx, shipment, event)
        if on_time is None:
            await project(ctx)
            return
        if state.status == "expired":
            return  # after the late window, or not the return's own parcel
        event = on_time
    before = shipment.status
    _note_scan(ctx, shipment, event)
    if event.event in TRACKING_NEWS:
        if not _tracking_news(ctx, shipment, event, before):
            return  # late or repeated: changes nothing
    elif event.event == "exception":
        shipment.status = "exception"
        ctx.log(state.status, "carrier_problem", tracking=event.tracking_number)
    elif shipment.direction == "outbound":
        shipment.status = event.event
        ctx.log(state.status, "exchange_parcel_event", tracking=event.tracking_number, event=event.event)
    elif event.event == "in_transit" and state.status == "awaiting_shipment":
        shipment.status = "in_transit"
        ctx.transition("in_transit", "parcel_scanned")
    elif event.event == "delivered" and state.status in ("awaiting_shipment", "in_transit"):
        shipment.status = "delivered"
        if not _parcel_delivered(ctx, shipment):  # False once every parcel of the return is in
            ctx.transition("received", "parcel_delivered")
    else:
        return  # late or repeated scans change nothing
    await project(ctx)


async def _taken_in(ctx: ReturnContext, tracking: str) -> list[Shipment]:
    """A read-model write is visible before its workflow task commits (a local activity, see publish.project). After
    a worker crash a scan sent on the strength of a label the read model showed can reach the replayed workflow in
    the same activation as that label's result, and signals run first: wait for the label, do not drop the scan."""
    state = ctx.state

    def known() -> list[Shipment]:
        return [s for s in state.shipments if s.tracking_number == tracking]

    try:
        await workflow.wait_condition(lambda: bool(known()), timeout=LABEL_WAIT)
    except TimeoutError:
        pass  # not this return's parcel after all
    return known()


def _late(ctx: ReturnContext, shipment: Shipment, event: CarrierEvent) -> CarrierEvent | None:
    """A scan of an expired return's parcel, within late_scan_days of the expiry (shipping._late_scans). One that
    happened before the expiry takes the return back to awaiting shipment, to go on as if it had come on time: the
    scan to go on with. A later one puts the return in the queue for a person: None."""
    book, state = ctx.parcels, ctx.state
    if book.late_until is None or workflow.now() > book.late_until or shipment.direction != "inbound":
        return event
    if book.expires_at is not None and event.occurred_at < book.expires_at and event.event in ON_TIME:
        state.status = "awaiting_shipment"
        ctx.log(state.status, "late_scan_on_time", tracking=shipment.tracking_number, event=event.event,
                at=f"{event.occurred_at:%Y-%m-%d %H:%M}")  # fmt: skip
        return event.model_copy(update={"event": ON_TIME[event.event]})
    if event.event in ON_TIME:
        shipment.status = event.event
    book.late = True
    when = f"{event.occurred_at:%Y-%m-%d}"
    ctx.log(state.status, "late_scan", tracking=shipment.tracking_number, event=event.event, on=when)
    kind = event.event.replace("_", " ")
    ctx.need_person("late_scan", f"parcel {shipment.tracking_number} was scanned ({kind}) on {when}, after the "
                    "return expired: reopen it if the parcel arrived", exceptions.fitting(ctx))  # fmt: skip
    return None


def _tracking_news(ctx: ReturnContext, shipment: Shipment, event: CarrierEvent, before: str) -> bool:
    """Scans that move no return forward: log them, mark the parcel. True when something changed; a scan older than
    what the parcel showed (`before`) changes nothing."""
    state = ctx.state
    tracking = event.tracking_number
    if event.event == "returned_to_sender":
        if before in ("delivered", "voided"):
            return False
        shipment.status = "returned_to_sender"
        code = "returned_to_warehouse" if shipment.direction == "outbound" else "returned_to_shopper"
        ctx.log(state.status, code, tracking=tracking)
        return True
    if before not in TRACKING_BEFORE[event.event]:
        return False
    shipment.status = event.event
    ctx.log(state.status, "parcel_event", tracking=tracking, event=event.event)
    return True


def _note_scan(ctx: ReturnContext, shipment: Shipment, event: CarrierEvent) -> None:
    """Before a scan acts: remember it (the stuck-parcel clocks), flag or clear an exception. No commands."""
    if shipment.direction != "inbound":
        return
    book, state = ctx.parcels, ctx.state
    book.last_scan[shipment.tracking_number] = workflow.now()
    book.scans += 1
    if state.status not in ("awaiting_shipment", "in_transit"):
        return  # a late scan of a return already received or closed needs nobody's attention
    if event.event == "exception":
        ctx.need_person(
            "parcel_stuck",
            f"carrier reported a problem with parcel {shipment.tracking_number}",
            exceptions.fitting(ctx),
        )
        return
    if event.event == "returned_to_sender":  # it will not reach the warehouse: someone must call the shopper
        ctx.need_person("returned_to_sender",
                        f"parcel {shipment.tracking_number} was returned to the shopper by the carrier",
                        exceptions.fitting(ctx))  # fmt: skip
        return
    if shipment.tracking_number in book.stuck or shipment.status == "exception":
        book.stuck.discard(shipment.tracking_number)
        book.lost.discard(shipment.tracking_number)
        if event.event in MOVING or event.event == "delivered":
            shipment.status = event.event
        ctx.log(state.status, "parcel_moving_again", tracking=shipment.tracking_number, event=event.event)
        _refresh_attention(ctx)
        book.dirty = True
    elif event.event in MOVING and shipment.status == "label_created" and state.status == "in_transit":
        shipment.status = event.event  # a second parcel on its way: the return itself is already in transit
        book.dirty = True


def _parcel_delivered(ctx: ReturnContext, shipment: Shipment) -> bool:
    """On a delivery: True when parcels are still out (the return is not received yet)."""
    missing = _missing_parcels(ctx)
    if not missing:
        return False
    state = ctx.state
    params: dict[str, Any] = {"parcel": shipment.parcel, "parcels": shipment.parcels, "waiting": len(missing)}
    if state.status == "awaiting_shipment":
        ctx.transition("in_transit", "parcel_delivered_partly", **params)
    else:
        ctx.log(state.status, "parcel_delivered_partly", **params)
    return True


def _missing_parcels(ctx: ReturnContext) -> list[Shipment]:
    """The current label of each parcel number that has not been delivered under any of its labels."""
    delivered = {s.parcel for s in ctx.inbound() if s.status == "delivered"}
    return [s for s in ctx.valid_labels() if s.parcel not in delivered and s.status != "delivered"]


def _refresh_attention(ctx: ReturnContext) -> None:
    if ctx.parcels.stuck or any(s.status in ("exception", "returned_to_sender") for s in ctx.inbound()):
        return
    ctx.calm()


# --- in transit: parcels that stop moving ------------------------------------------------------------


async def await_delivery(ctx: ReturnContext) -> None:
    """Wait while in transit; a parcel not scanned for stuck_parcel_days becomes an exception, and one still not
    scanned LOST_AFTER times as long is taken as lost. A person's decision (workflows.exceptions) ends the wait: it
    is carried out here, and the return is completed."""
    book = ctx.parcels
    quiet = timedelta(days=ctx.policy.stuck_parcel_days)
    entered = workflow.now()
    while ctx.status() == "in_transit":
        if ctx.decided is not None:
            await exceptions.carry_out(ctx)
            return
        if book.dirty:
            book.dirty = False
            await project(ctx)
            continue
        last = {s.tracking_number: book.last_scan.get(s.tracking_number, entered) for s in ctx.inbound()}
        due = {t: last[t] + quiet for t in _moving(ctx) if t not in book.stuck}
        due |= {t: last[t] + quiet * LOST_AFTER for t in book.stuck if t not in book.lost and t in last}
        scans = book.scans
        woken = lambda n=scans: (ctx.status() != "in_transit" or book.scans != n or book.dirty  # noqa: E731
                                 or ctx.decided is not None)  # fmt: skip
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
            if tracking in book.stuck:
                await _flag_lost(ctx, tracking, now - last[tracking])
            else:
                await _flag_stuck(ctx, tracking)
    if book.dirty:
        book.dirty = False
        await project(ctx)


def _moving(ctx: ReturnContext) -> list[str]:
    return [s.tracking_number for s in ctx.inbound() if s.status in MOVING]


async def _flag_stuck(ctx: ReturnContext, tracking: str) -> None:
    book, state = ctx.parcels, ctx.state
    shipment = next(s for s in ctx.inbound() if s.tracking_number == tracking)
    days = ctx.policy.stuck_parcel_days
    book.stuck.add(tracking)
    book.flags += 1
    shipment.status = "exception"
    ctx.need_person(
        "parcel_stuck", f"parcel {tracking} has had no carrier scan for {days} days", exceptions.fitting(ctx)
    )
    ctx.log(state.status, "parcel_stuck", tracking=tracking, days=days)
    await project(ctx)
    await mail(ctx, "parcel_stuck", {"tracking_number": tracking, "days": days,
                                     "parcel": shipment.parcel, "parcels": shipment.parcels},
               dedupe=f"{tracking}:{book.flags}")  # fmt: skip


async def _flag_lost(ctx: ReturnContext, tracking: str, quiet: timedelta) -> None:
    """Still no scan long after it was flagged stuck: staff decide (refund without receipt, or close)."""
    ctx.parcels.lost.add(tracking)
    reason = f"parcel {tracking} has had no carrier scan for {quiet.days} days: it is taken as lost"
    ctx.need_person("parcel_lost", reason, exceptions.fitting(ctx))
    ctx.log(ctx.status(), "parcel_lost", tracking=tracking, days=quiet.days)
    await project(ctx)


# --- receiving ----------------------------------------------------------------------------------------


async def close_receiving(ctx: ReturnContext, by: str) -> ReturnState:
    """The warehouse takes what came: the return is received and the parcels that never arrived are logged."""
    state = ctx.state
    by = ctx.storable(by, "close_receiving.by")
    if state.status in ("awaiting_shipment", "in_transit") and not any(s.status == "delivered" for s in ctx.inbound()):
        return await _receive_at_dock(ctx, by)
    missing = _missing_parcels(ctx)
    await void_labels([s for s in missing if s.status == "label_created"])  # never scanned: refunded by the carrier
    if state.status != "in_transit":  # the last parcel was delivered meanwhile: received already
        return state
    for s in missing:
        s.status = "missing"
    ctx.parcels.stuck.clear()
    ctx.parcels.lost.clear()
    ctx.calm()
    never = [{"parcel": s.parcel, "parcels": s.parcels, "tracking": s.tracking_number} for s in missing]
    ctx.transition("received", "receiving_closed", by=by, missing=never)
    await project(ctx)
    return state


async def _receive_at_dock(ctx: ReturnContext, by: str) -> ReturnState:
    """The parcel is at the dock before the carrier said it was delivered (issue 18): it is received as scanned.
    The return is taken as a whole, every current label's parcel as arrived; the carrier's later scans of a
    delivered parcel of a received return change nothing (carrier_event)."""
    state = ctx.state
    arrived = ctx.valid_labels()
    for s in arrived:
        s.status = "delivered"
    ctx.parcels.stuck.clear()
    ctx.parcels.lost.clear()
    ctx.calm()
    ctx.transition("received", "received_at_dock", by=by, tracking_numbers=[s.tracking_number for s in arrived])
    await project(ctx)
    return state


def validate_close_receiving(ctx: ReturnContext) -> None:
    ctx.require("awaiting_shipment", "in_transit")
