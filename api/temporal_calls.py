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
from workflows.contracts import INELIGIBLE_LINES, RATE_LIMITED

T = TypeVar("T")
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
    """Await a workflow operation; a rejected update is a 409 (wrong status), 422 (bad field) or 429 (a limit, with
    Retry-After: the workflow's seconds until it allows the change again).

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
        cause = e.cause
        message = str(cause.message if isinstance(cause, ApplicationError) else cause)
        if isinstance(cause, ApplicationError) and cause.type == INELIGIBLE_LINES:
            raise ServiceError(
                422, {"message": message, "lines": list(cause.details[0]) if cause.details else []}
            ) from e
        if isinstance(cause, ApplicationError) and cause.type == RATE_LIMITED:
            wait = int(cause.details[0]) if cause.details else 60
            raise ServiceError(429, message, headers={"Retry-After": str(wait)}) from e
        raise ServiceError(409 if message.startswith("status:") else 422, message) from e
    except WorkflowUpdateRPCTimeoutOrCancelledError as e:
        raise ServiceError(503, "the workflow did not answer in time; try again", headers=UNAVAILABLE) from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            ended = await ended_as(workflow) if workflow is not None else None
            if ended is not None:
                raise ServiceError(409, f"status: the return is {ended} and can no longer change") from e
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
