"""What a return tells the world: its read model (written at every transition) and its e-mails to the shopper.

A value that PostgreSQL or the mail encoder cannot take must never be retried forever (it would be refused at every
attempt): it is cleaned or left out, and the return is flagged for staff instead (ReturnContext.note_bad_data).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.base import BAD_DATA
    from activities.notifications import STAFF_ALERT, Notifications
    from activities.read_model import ReadModel
    from domain.messages import EmailInput, EmailItem
    from domain.models import FINAL_STATUSES, ReturnState, Shipment
    from domain.text import scrub
    from workflows import options
    from workflows.context import ReturnContext
    from workflows.options import LOCAL_RETRY, RETRY, TIMEOUT, call, persist


async def project(ctx: ReturnContext) -> None:
    """Write the return's read model."""
    state = ctx.state
    # A value PostgreSQL cannot store (NUL, a lone surrogate) made the projection fail at every attempt, and
    # retrying it froze the read model while the workflow went on: clean it here, deterministically, and flag it.
    _, bad = scrub(state)
    if bad:
        ctx.note_bad_data(bad)
        ctx.touch()
    # Usually run by this worker inside the workflow task: no task-queue round trip and no history events for each
    # of a return's read-model writes (most of the Temporal server's work per return beyond the bare workflow's,
    # bench/README.md). Such a write is seen before its task commits. That is harmless when the task was started by
    # something already in the history (a signal, a timer, an activity's result): a lost task is replayed from it
    # and writes the same again (see tracking._taken_in for the one order it can change). An update is in the
    # history only once its task commits: a lost one is gone, and its write would show what never happened. So in a
    # task carrying an update the write is a regular activity, scheduled by the task's own completion.
    # Refused for a reason scrub() does not know, the activity flagged the row, and the next projection tries again
    # with the workflow flagged as well.
    # Again when the write itself flagged or unflagged a stall (workflows.options), or was refused: the row must show
    # it. Not for what other coroutines changed meanwhile (a write that waits for its task to commit lets the run
    # loop go on): each of them writes what it changed.
    for _ in range(2):
        stalls = ctx.stall_changes
        write = _write_after_commit(state) if ctx.update_uncommitted() else _write(state)
        if not await _unless_refused(ctx, write, lambda reason: reason) and ctx.stall_changes == stalls:
            break
    await _alert(ctx)


async def _write_after_commit(state: ReturnState) -> None:
    """A regular activity: the server schedules it when the workflow task completes, so it writes only what the
    history holds. Retried until the database takes it, the return flagged `activity_stalled` meanwhile."""
    await persist(lambda: workflow.execute_activity_method(ReadModel.project, state, start_to_close_timeout=TIMEOUT,
                                                           retry_policy=RETRY), "project_return")  # fmt: skip


async def _write(state: ReturnState) -> None:
    """A few quick tries inside the workflow task; past them the database is down for longer, and a regular
    activity keeps trying (options.persist) without holding the task open."""
    try:
        await workflow.execute_local_activity_method(ReadModel.project, state, start_to_close_timeout=TIMEOUT,
                                                     retry_policy=LOCAL_RETRY)  # fmt: skip
    except (ActivityError, ApplicationError) as e:
        # Its attempts ran out (the SDK raises the last attempt's own error for a local activity); a refusal for
        # good (BAD_DATA) is the caller's to handle.
        cause = e.cause if isinstance(e, ActivityError) else e
        if isinstance(cause, ApplicationError) and cause.non_retryable:
            raise
        await _write_after_commit(state)


async def _alert(ctx: ReturnContext) -> None:
    """One e-mail to staff each time the return enters the Exceptions queue (activities.notifications sends it to
    REVERSO_STAFF_ALERT_EMAIL, or to nobody when that is unset)."""
    state = ctx.state
    if not state.attention or ctx.alerted:
        return
    ctx.alerted = True
    ctx.alerts += 1
    context: dict[str, object] = {"order_number": state.order_number, "code": state.attention_code, "reason": state.attention_reason,
               "code_words": state.attention_code.replace("_", " "), "resolutions": list(state.resolutions)}  # fmt: skip
    inp = EmailInput(return_id=state.id, kind=STAFF_ALERT, to="", context=context, dedupe=f"q{ctx.alerts}")
    await _unless_refused(
        ctx, call(Notifications.send, inp), lambda reason: f"e-mail {STAFF_ALERT} not sent ({reason})"
    )


options.PUBLISH[:] = [project]


async def mail(
    ctx: ReturnContext, kind: str, context: dict[str, object], dedupe: str = "", labels: list[Shipment] | None = None
) -> None:
    """E-mail the shopper the template `kind` (activities/mail/) with `context` over what every e-mail knows.
    `labels` go along as attachments; `dedupe` tells apart the e-mails of a kind sent more than once."""
    state, labels = ctx.state, labels or []
    # The label the shopper should use; once none is valid, the one they had.
    current = ctx.valid_labels() or state.shipments
    base = {"order_number": state.order_number, "currency": state.currency, "status": state.status,
            "tracking_number": current[0].tracking_number if current else ""}  # fmt: skip
    # No policy reasons: they are the shop's words (limits, thresholds); a shopper's e-mail says what happens next.
    inp = EmailInput(return_id=state.id, kind=kind, to=state.email, context={**base, **context}, dedupe=dedupe,
                     locale=state.locale, attach_label=labels[0].tracking_number if labels else None,
                     attach_labels=[s.tracking_number for s in labels[1:]], items=_items(ctx))  # fmt: skip
    # One that cannot be encoded (activities.base.bad_data_is_final) is not sent: the return is flagged instead.
    _, bad = scrub(inp.context, f"email.{inp.kind}")
    _, bad_items = scrub(inp.items, f"email.{inp.kind}.items")
    ctx.note_bad_data(bad + bad_items)
    if await _unless_refused(ctx, call(Notifications.send, inp), lambda reason: f"e-mail {kind} not sent ({reason})"):
        await project(ctx)


def _items(ctx: ReturnContext) -> list[EmailItem]:
    """The items an e-mail is about, from what the workflow already holds (the state, the claimed order's pictures):
    the lines coming back, or every line when none may (a rejection). An exchange names what comes instead while the
    return is open, and once it has ended only when the replacement was sent."""
    state, order = ctx.state, ctx.claim.order if ctx.claim else None
    open_return = state.status not in FINAL_STATUSES
    items = []
    for line in [x for x in state.lines if x.decision.eligible] or state.lines:
        d = line.decision
        ordered = order.line(d.line_id) if order else None
        instead = d.resolution == "exchange" and (open_return or line.exchanged_quantity > 0)
        items.append(EmailItem(title=d.title or (ordered.title if ordered else ""), quantity=d.quantity,
                               image_url=ordered.image_url if ordered else None,
                               exchange_title=d.exchange_title if instead else ""))  # fmt: skip
    return [x for x in items if x.title]


async def _unless_refused(ctx: ReturnContext, activity: Awaitable[None], flag: Callable[[str], str]) -> bool:
    """Await the activity; when it refused its input for good (activities.base.bad_data_is_final), flag the return
    with `flag(reason)` and answer True instead of retrying the same refusal forever."""
    try:
        await activity
        return False
    except (ActivityError, ApplicationError) as e:
        cause = e.cause if isinstance(e, ActivityError) else e
        if not (isinstance(cause, ApplicationError) and cause.type == BAD_DATA):
            raise
        ctx.note_bad_data([flag(cause.message.removeprefix("bad_data: "))])
        ctx.touch()
        return True
