"""Shipping: the return's labels, from the first issue to a reissue, their validity and void, and the wait for the
shopper to ship (reminder, expiry).

Decisions (README, "Logistics"):
- One label per parcel; a return in one parcel is just the case of one.
- An unused label is voided `label_validity_days` after it was issued, only when that comes before the
  return's expiry (otherwise the expiry voids it anyway). The shopper is told and can get a new one.
- A reissue does not move the expiry: the return still expires `shipment_expiry_days` after it became
  awaiting_shipment, so asking for new labels cannot keep a return open forever. The new labels are valid
  for `label_validity_days` from the reissue (within that same expiry).
- New labels are limited to `label_reissues_per_day` in any 24 hours: each reissue voids and makes a label per
  parcel (bought again from a carrier API) and mails them all, so an unlimited button made hundreds of labels and
  a history of thousands of events. Past it the update is refused as RATE_LIMITED, with the seconds until the
  oldest of those reissues is 24 hours old; the API answers 429 with that as Retry-After.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carriers.local import LocalCarrier
    from domain.messages import LabelRequest
    from domain.models import FINAL_STATUSES, MAX_PARCELS, Address, ReturnState, Shipment
    from workflows.context import ReturnContext
    from workflows.contracts import LabelUnavailable, RateLimited, WrongStatus
    from workflows.options import RETRY, TIMEOUT, gave_up, persist
    from workflows.publish import mail, project

# ApplicationError type: no label could be made for the return (the carrier refused the address, a carrier API
# needs what the order lacks). Its message is the carrier's reason; the API answers 422 with it.
LABEL_UNAVAILABLE = LabelUnavailable.__name__

# Never less than this between two timer checks, so a deadline that is due now cannot spin.
TICK = timedelta(seconds=1)
REISSUE_WINDOW = timedelta(hours=24)
# ApplicationError type: a new label asked for once the ship-by date has passed (answered 409: the status moves on).


def address_lines(address: Address) -> list[str]:
    city = " ".join(x for x in (address.postal_code, address.city) if x)
    return [x for x in (address.name, address.line1, address.line2, city, address.region, address.country) if x]


def set_parcels(ctx: ReturnContext, parcels: int) -> None:
    ctx.parcels.parcels = min(max(1, parcels), MAX_PARCELS)  # the API checks it; a direct client may not


# --- labels ----------------------------------------------------------------------------------------


async def issue_labels(ctx: ReturnContext) -> None:
    """The return's first labels, at approval (or at once when auto-approved)."""
    state = ctx.state
    if ctx.inbound():
        return
    ctx.parcels.labels_from = workflow.now()
    made = await _create_labels(ctx)
    ctx.log(state.status, "label_issued" if len(made) == 1 else "labels_issued",
            tracking_numbers=[s.tracking_number for s in made])  # fmt: skip


async def _create_labels(ctx: ReturnContext) -> list[Shipment]:
    """One label per parcel; create_label is idempotent per return, direction and parcel. A label the carrier will
    not make voids the ones made with it and raises LABEL_UNAVAILABLE."""
    state, address, count = ctx.state, ctx.order.shipping_address, ctx.parcels.parcels
    made: list[Shipment] = []
    for n in range(1, count + 1):
        # Routing (settings.routing) and carrier APIs need the country, SKUs and structured address.
        req = LabelRequest(return_id=state.id, direction="inbound", ship_from=address_lines(address), parcel=n,
                           parcels=count, country=address.country.upper(), shopper_address=address,
                           shopper_email=state.email, skus=[x.decision.sku for x in state.lines],
                           warehouse_id=state.warehouse_id)  # fmt: skip
        try:
            shipment = await _label(req)
        except ActivityError as e:
            if gave_up(e):
                raise
            await void_labels(made)
            cause = e.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or e)
            why = f"no return label could be made: {reason}"
            raise LabelUnavailable(f"label: {why}", why) from e
        shipment.parcel, shipment.parcels = n, count
        state.warehouse_id = state.warehouse_id or shipment.warehouse_id
        state.shipments.append(shipment)
        made.append(shipment)
        if state.status in FINAL_STATUSES:
            # Cancelled or rejected while the carrier made it (a racing update): nobody will use it, and the stage
            # that voided the return's labels may have run already.
            await void_labels([shipment])
            await project(ctx)
    return made


async def _label(req: LabelRequest) -> Shipment:
    return await persist(lambda: workflow.execute_activity_method(LocalCarrier.create_label, req,
                                                                  start_to_close_timeout=TIMEOUT, retry_policy=RETRY),
                         "create_label")  # fmt: skip


async def void_labels(shipments: list[Shipment]) -> None:
    """Void each label at its carrier (an unused one is refunded) and mark it void."""
    for s in shipments:
        if s.status == "voided":
            continue
        await _void(s.tracking_number)
        s.status = "voided"


async def _void(tracking: str) -> None:
    await persist(lambda: workflow.execute_activity_method(LocalCarrier.void_label, tracking,
                                                           start_to_close_timeout=TIMEOUT, retry_policy=RETRY),
                  "void_label")  # fmt: skip


async def mail_labels(ctx: ReturnContext) -> None:
    """The e-mail with the return's labels, once it awaits shipment."""
    labels = ctx.valid_labels()
    # A carrier API's label is a link to the carrier's file (no PDF of ours to attach); offered for a single label.
    link = labels[0].label_url if len(labels) == 1 and labels[0].label_url.startswith("https://") else ""
    await mail(ctx, "label", {"tracking_number": labels[0].tracking_number,
                              "expiry_days": ctx.policy.shipment_expiry_days, "label_link": link,
                              "tracking_numbers": [s.tracking_number for s in labels]}, labels=labels)  # fmt: skip


# --- new labels on request --------------------------------------------------------------------------


async def reissue(ctx: ReturnContext, by: str) -> ReturnState:
    """Void the current inbound labels (if still valid) and e-mail new ones; the expiry stays where it was."""
    book = ctx.parcels
    by = ctx.storable(by, "reissue_label.by")
    async with book.lock:
        state = ctx.state
        if state.status != "awaiting_shipment":  # it moved on while another label change ran
            return state
        # Again here: the validators of updates that arrive together all run before any of these handlers.
        if refusal := reissue_refusal(ctx):
            raise refusal
        now = workflow.now()
        book.reissued = [t for t in book.reissued if t > now - REISSUE_WINDOW] + [now]
        # The carrier hands out one label per return and parcel until it is voided: the old ones go first.
        old = ctx.valid_labels()
        await void_labels(old)
        new = await _next_labels(ctx, old)  # the carrier's refusal goes back to the caller too (422)
        shopper = by in ("", "shopper")
        await _mail_new_labels(ctx, new, "label_reissued_for_shopper" if shopper else "label_reissued_for_shop",
                               "" if shopper else by)  # fmt: skip
        return state


async def retry_labels(ctx: ReturnContext, by: str, note: str) -> None:
    """`retry` on `label_unavailable` (a reissue the carrier refused): ask the carrier again now. A second refusal
    leaves the return in the queue with the carrier's new reason."""
    book = ctx.parcels
    by, note = ctx.storable(by, "resolve.by"), ctx.storable(note, "resolve.note")
    async with book.lock:
        state = ctx.state
        if state.status != "awaiting_shipment":
            return
        try:
            new = await _next_labels(ctx, [])
        except ApplicationError as e:
            if e.type != LABEL_UNAVAILABLE:
                raise
            ctx.log(state.status, "label_refused_again", by=by, note=note)
            return
        await _mail_new_labels(ctx, new, "label_reissued_for_shop", by, note)


async def _next_labels(ctx: ReturnContext, voided: list[Shipment]) -> list[Shipment]:
    """A new generation of labels; when the carrier refuses them the return waits in the queue (label_unavailable)
    and the refusal is raised on."""
    ctx.parcels.generation += 1
    ctx.parcels.labels_from = workflow.now()
    try:
        return await _create_labels(ctx)
    except ApplicationError as e:
        if e.type == LABEL_UNAVAILABLE:
            await _no_label(ctx, e, voided)
        raise


async def _mail_new_labels(ctx: ReturnContext, new: list[Shipment], code: str, by: str, note: str = "") -> None:
    state, book = ctx.state, ctx.parcels
    ctx.log(state.status, code, by=by, note=note, tracking_numbers=[s.tracking_number for s in new])
    if state.attention_code == "label_unavailable":
        ctx.calm()
    await project(ctx)
    await mail(ctx, "label_reissued", {"tracking_numbers": [s.tracking_number for s in new],
                                       "expires_on": _expires_on(ctx)},
               dedupe=f"g{book.generation}", labels=new)  # fmt: skip


async def _no_label(ctx: ReturnContext, e: ApplicationError, voided: list[Shipment]) -> None:
    """The carrier would not make new labels: the return has none to ship with, and staff must know (the caller
    hears the carrier's reason as well)."""
    state = ctx.state
    reason = str(e.details[0]) if e.details else e.message  # LabelUnavailable carries the carrier's words apart
    numbers = [s.tracking_number for s in voided]
    gone = f"; the old label {', '.join(numbers)} was voided" if voided else ""
    ctx.log(state.status, "no_new_label", voided=numbers)
    ctx.need_person("label_unavailable", f"the carrier refused a new label: {reason}{gone}; the return has no valid "
                    "label until one is made (retry asks the carrier again)", ["retry"])  # fmt: skip
    await project(ctx)


def reissue_refusal(ctx: ReturnContext) -> ApplicationError | None:
    """Why a new label cannot be had now (the ship-by date has passed, label_reissues_per_day reached), or None."""
    limit, now = ctx.policy.label_reissues_per_day, workflow.now()
    expires = ctx.parcels.expires_at
    if expires is not None and now >= expires:
        # The expiry is due in this very moment (its timer has not run yet): a label made now would only be voided.
        return WrongStatus(
            f"status: the return's ship-by date {expires.isoformat(timespec='seconds')} has passed; no new label"
        )
    recent = sorted(t for t in ctx.parcels.reissued if t > now - REISSUE_WINDOW)
    if len(recent) < limit:
        return None
    again = recent[-limit] + REISSUE_WINDOW  # when the oldest reissue that counts is 24 hours old
    wait = max(1, math.ceil((again - now).total_seconds()))
    return RateLimited(
        f"label: new labels were issued {len(recent)} times in the last 24 hours, the most allowed; "
        f"ask again after {again.isoformat(timespec='seconds')}",
        wait, again.isoformat(),
    )  # fmt: skip


# --- waiting for the shopper to ship ---------------------------------------------------------------


async def await_shipment(ctx: ReturnContext) -> None:
    """The shipment reminder and expiry (policy), plus the label validity timer."""
    book, policy = ctx.parcels, ctx.policy
    start = workflow.now()
    expiry_at = start + timedelta(days=policy.shipment_expiry_days)
    reminder_at = start + timedelta(days=policy.shipment_reminder_days)
    reminded = reminder_at >= expiry_at
    book.labels_from = book.labels_from or start
    book.expires_at = expiry_at
    while True:
        void_at = _void_at(ctx, expiry_at)
        due = [expiry_at] + ([] if reminded else [reminder_at]) + ([void_at] if void_at else [])
        generation = book.generation

        def relabelled(g: int = generation) -> bool:
            return ctx.status() != "awaiting_shipment" or book.generation != g

        try:
            await workflow.wait_condition(relabelled, timeout=max(min(due) - workflow.now(), TICK))
            if ctx.status() != "awaiting_shipment":
                return
            continue  # new labels: new timers
        except TimeoutError:
            pass
        now = workflow.now()
        if void_at and now >= void_at:
            await _expire_labels(ctx)
        elif not reminded and now >= reminder_at:
            reminded = True
            await mail(ctx, "shipment_reminder", {"expires_on": expiry_at.date().isoformat()})
        elif now >= expiry_at:
            async with book.lock:  # a reissue under way finishes first: its labels then stay valid for late scans
                if ctx.status() != "awaiting_shipment":
                    return
                ctx.transition("expired", "expired", days=policy.shipment_expiry_days)
                if ctx.state.attention_code == "label_unavailable":  # nothing to retry once it expired
                    ctx.need_person("label_unavailable", ctx.state.attention_reason)
            await _late_scans(ctx)
            return


async def _late_scans(ctx: ReturnContext) -> None:
    """After expiry the labels stay valid for late_scan_days: a scan that happened before the expiry takes the return
    on (workflows.tracking), a later one puts it in the Exceptions queue (`late_scan`) until a person reopens or
    closes it. The shopper hears of the expiry now; the labels are voided when the return closes."""
    book, days = ctx.parcels, ctx.policy.late_scan_days
    await project(ctx)
    await mail(ctx, "expired", {"reason": ctx.reject_reason, "expiry_days": ctx.policy.shipment_expiry_days})
    if not days:
        return
    book.late_until = workflow.now() + timedelta(days=days)
    try:
        await workflow.wait_condition(lambda: ctx.status() != "expired" or book.late, timeout=timedelta(days=days))
    except TimeoutError:
        return
    await workflow.wait_condition(lambda: ctx.status() != "expired" or not book.late)


def _void_at(ctx: ReturnContext, expiry_at: datetime) -> datetime | None:
    labels_from = ctx.parcels.labels_from
    if labels_from is None or not any(s.status == "label_created" for s in ctx.valid_labels()):
        return None
    at = labels_from + timedelta(days=ctx.policy.label_validity_days)
    return at if at < expiry_at else None


async def _expire_labels(ctx: ReturnContext) -> None:
    book = ctx.parcels
    async with book.lock:
        state = ctx.state
        unused = [s for s in ctx.valid_labels() if s.status == "label_created"]
        if state.status != "awaiting_shipment" or not unused:
            return
        await void_labels(unused)
        book.generation += 1
        days = ctx.policy.label_validity_days
        ctx.log(state.status, "labels_voided", days=days, tracking_numbers=[s.tracking_number for s in unused])
        await project(ctx)
        await mail(ctx, "label_expired", {"validity_days": days, "expires_on": _expires_on(ctx)},
                   dedupe=f"g{book.generation}")  # fmt: skip


def _expires_on(ctx: ReturnContext) -> str:
    """The day the return expires: shipment_expiry_days after it started waiting for the parcel."""
    state = ctx.state
    started = next((t.at for t in state.timeline if t.status == "awaiting_shipment"), state.created_at)
    return (started + timedelta(days=ctx.policy.shipment_expiry_days)).date().isoformat()
