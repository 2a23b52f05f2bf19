"""Starting and updating return workflows, with the engine's errors turned into ServiceErrors (HTTP answers)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from api.deps import UNAVAILABLE
from api.services.errors import ServiceError
from settings import Settings
from workflows.contracts import REFUSAL_CODES, ChargeChanged, IneligibleLines, RateLimited, WrongStatus

T = TypeVar("T")
# The one place a workflow's refusal (workflows.contracts.Refusal: its ApplicationError type) gets its HTTP status.
STATUS_BY_CODE = {"wrong_status": 409, "invalid_field": 422, "amount_too_large": 422, "already_submitted": 422,
                  "ineligible_lines": 422, "charge_changed": 422, "rate_limited": 429, "label_unavailable": 422}  # fmt: skip


def refusal(cause: BaseException | None) -> ServiceError:
    """The HTTP answer to an update the workflow refused: status and code from the refusal's type, its message as
    `detail`. Anything that is no Refusal (a bug, a pydantic error decoding the argument) is a 422 invalid_field."""
    message = str(cause.message if isinstance(cause, ApplicationError) else cause)
    kind = cause.type if isinstance(cause, ApplicationError) else None
    code = REFUSAL_CODES.get(kind or "", "invalid_field")
    details = cause.details if isinstance(cause, ApplicationError) else ()
    if kind == IneligibleLines.__name__:
        return ServiceError(422, {"message": message, "lines": list(details[0]) if details else []}, code=code)
    if kind == ChargeChanged.__name__:  # a field's error, as the edge's checks answer them
        return ServiceError(422, [{"field": "accept_charge", "type": code, "reason": message}], code=code)
    if kind == RateLimited.__name__:
        wait = int(details[0]) if details else 60
        return ServiceError(429, message, headers={"Retry-After": str(wait)}, code=code)
    return ServiceError(STATUS_BY_CODE[code], message, code=code)


def ended(status: str) -> ServiceError:
    """The 409 for a change to a return that has ended with `status`."""
    return ServiceError(409, f"status: the return is {status} and can no longer change", code=WrongStatus.code)


# The SDK's default retries an unreachable server for 10 s; an HTTP caller waiting that long would rather
# hear "503, try again" at once. Retry briefly (a server restarting in place), then give up.
API_RETRIES = RetryConfig(initial_interval_millis=100, max_interval_millis=500, max_elapsed_time_millis=1500,
                          max_retries=6)  # fmt: skip


async def connect(settings: Settings) -> Client:
    """The API's client: like the worker's, but it fails fast when the server cannot be reached."""
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter, retry_config=API_RETRIES)  # fmt: skip


async def call(
    op: Awaitable[T], release: AsyncSession | None = None, workflow: WorkflowHandle[Any, Any] | None = None
) -> T:
    """Await a workflow operation; a rejected update is the status its refusal's code has (STATUS_BY_CODE: 409 wrong
    status, 422 bad field, 429 a limit with Retry-After: the workflow's seconds until it allows the change again).

    `release`: the request's database session, whose connection goes back to the pool first. An update can take
    seconds (a label is drawn, the read model written), and shoppers waiting on one must not hold the pool.
    `workflow`: the one `op` updates. A route checks the return's status in the read model first, but the workflow
    may finish before the update reaches it, and the engine then answers "not found": with the handle, that is the
    409 naming the status the return ended in, as the check would have given a moment later."""
    if release is not None:
        await release.close()
    try:
        return await op
    except WorkflowUpdateFailedError as e:
        raise refusal(e.cause) from e
    except WorkflowUpdateRPCTimeoutOrCancelledError as e:
        raise ServiceError(503, "the workflow did not answer in time; try again", headers=UNAVAILABLE) from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            status = await ended_as(workflow) if workflow is not None else None
            if status is not None:
                raise ended(status) from e
            raise ServiceError(404, "return not found") from e
        if unreachable(e):
            raise ServiceError(503, "the workflow engine is not reachable; try again shortly",
                                headers=UNAVAILABLE) from e  # fmt: skip
        raise


async def ended_as(workflow: WorkflowHandle[Any, Any]) -> str | None:
    """The status a finished return's workflow ended with (its result); None while it runs or when there is none."""
    try:
        described = await workflow.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None
        if unreachable(e):
            raise ServiceError(503, "the workflow engine is not reachable; try again shortly",
                                headers=UNAVAILABLE) from e  # fmt: skip
        raise
    if described.status in (None, WorkflowExecutionStatus.RUNNING):
        return None
    if described.status == WorkflowExecutionStatus.COMPLETED:
        return str(await call(workflow.result()))
    return described.status.name.lower()  # failed, terminated, timed_out: ended without a status of its own


def unreachable(e: RPCError) -> bool:
    """The server could not be reached or went away mid-call (a restart): worth a retry, not a 500.

    A connection cut while a call is in flight comes back as UNKNOWN "transport error", not UNAVAILABLE."""
    transient = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
    cut = e.status == RPCStatusCode.UNKNOWN and "transport error" in e.message
    # The server turns updates away while the workflow's last task failed or timed out (its worker crashed);
    # a worker picks the workflow up again within seconds.
    stalled = e.status == RPCStatusCode.FAILED_PRECONDITION and "Workflow Task in failed state" in e.message
    return e.status in transient or cut or stalled
