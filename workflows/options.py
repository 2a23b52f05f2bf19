"""Activity options shared by the workflows, and the one way the workflows call an activity with them.

Retrying goes on until the outside system is back (nothing is lost), but not silently: after STALL_ATTEMPTS failed
attempts of one call (about four minutes of backoff, well within the hour) the return is flagged `activity_stalled`
for staff, and the call is tried again in rounds, a timer apart, until it goes through; then the flag goes. The
attempt number of a running activity is not visible to its workflow, so the bound is the retry policy's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.activity import _Definition
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

TIMEOUT = timedelta(seconds=30)
STALL_ATTEMPTS = 10
# Each round of attempts; backoff capped at a minute.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                    maximum_attempts=STALL_ATTEMPTS)  # fmt: skip
# A read-model write runs in the workflow task (workflows.publish): a few quick tries there, then as a regular
# activity, so a long database outage does not hold the task open and grow the history.
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=2),
                          maximum_attempts=3)  # fmt: skip
# Between two rounds of attempts once an activity is flagged as stalled.
ROUND_PAUSE = timedelta(minutes=5)
# How a flag reaches the read model: workflows.publish.project, set when that module loads (it imports this one).
PUBLISH: list[Callable[[Any], Awaitable[None]]] = []

P = TypeVar("P")
R = TypeVar("R")


async def call(fn: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
    """Run the activity method `fn` with `arg`, retried until it answers (see the module's docstring)."""
    return await persist(lambda: workflow.execute_activity_method(fn, arg, start_to_close_timeout=TIMEOUT,
                                                                  retry_policy=RETRY), _name(fn))  # fmt: skip


def _name(fn: Callable[..., Any]) -> str:
    """The activity's registered name (send_email, not the method's name send): what staff find in the worker's logs."""
    defn = _Definition.from_callable(fn)
    return defn.name if defn is not None and defn.name else getattr(fn, "__name__", "activity")


def gave_up(e: ActivityError) -> bool:
    """The error is a round of attempts running out (or timing out), not the activity's refusal for good."""
    if isinstance(e.cause, ApplicationError) and e.cause.non_retryable:
        return False
    return e.retry_state in (RetryState.MAXIMUM_ATTEMPTS_REACHED, RetryState.TIMEOUT)


async def persist(attempt: Callable[[], Awaitable[R]], what: str) -> R:
    """Await `attempt()` again after each round of attempts runs out; the return is flagged meanwhile."""
    stalled = False
    try:
        while True:
            try:
                result = await attempt()
                break
            except ActivityError as e:
                if not gave_up(e):
                    raise
                if not stalled:
                    stalled = True
                    await _flag(what, e)
            await workflow.sleep(ROUND_PAUSE)
    finally:
        if stalled:
            _unflag()
    if stalled:
        await _publish(what)
    return result


def _return_context() -> Any:
    """The running ReturnWorkflow's ReturnContext once the return exists; None elsewhere (ExchangeWorkflow)."""
    ctx = getattr(workflow.instance(), "ctx", None)
    return ctx if getattr(ctx, "current", None) is not None else None


async def _flag(what: str, e: ActivityError) -> None:
    ctx = _return_context()
    if ctx is None:
        return
    cause = e.cause.message if isinstance(e.cause, ApplicationError) else str(e.cause or e)
    ctx.stall(f"activity_stalled: {what} failed {STALL_ATTEMPTS} times ({cause[:200]}); still retrying")
    ctx.touch()
    await _publish(what)


async def _publish(what: str) -> None:
    ctx = _return_context()
    # The read model's own write stalling is shown by its next write, once the database takes it.
    if ctx is not None and PUBLISH and what != "project_return":
        await PUBLISH[0](ctx)


def _unflag() -> None:
    ctx = _return_context()
    if ctx is not None and ctx.stalled:
        ctx.unstall()
        ctx.touch()
