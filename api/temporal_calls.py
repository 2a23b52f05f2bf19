"""Starting and updating return workflows, with the engine's errors turned into HTTP answers."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import HTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import UNAVAILABLE

T = TypeVar("T")


async def call(op: Awaitable[T]) -> T:
    """Await a workflow operation; a rejected update is a 409 (wrong status) or 422 (bad field)."""
    try:
        return await op
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        message = str(cause.message if isinstance(cause, ApplicationError) else cause)
        if isinstance(cause, ApplicationError) and cause.type == "IneligibleLines":
            raise HTTPException(
                422, {"message": message, "lines": list(cause.details[0]) if cause.details else []}
            ) from e
        raise HTTPException(409 if message.startswith("status:") else 422, message) from e
    except WorkflowUpdateRPCTimeoutOrCancelledError as e:
        raise HTTPException(503, "the workflow did not answer in time; try again", headers=UNAVAILABLE) from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, "return not found") from e
        if e.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise HTTPException(503, "the workflow engine is not reachable; try again shortly",
                                headers=UNAVAILABLE) from e  # fmt: skip
        raise
