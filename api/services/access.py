"""Which returns a caller may see and change, and sending a change to a return's workflow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Shopper, Staff
from api.deps import UNAVAILABLE
from api.reads import may_see
from api.services.errors import ServiceError
from api.temporal_calls import call, ended, unreachable
from db.models import ReturnRow
from domain.models import FINAL_STATUSES, ReturnState

NOT_FOUND = "return not found"
Actor = Staff | Shopper


def by(who: Actor) -> str:
    """Who did it, as the workflow records it: a shopper is "shopper", staff by name."""
    return "shopper" if isinstance(who, Shopper) else who.name


async def visible_return(db: AsyncSession, rid: str, who: Actor) -> ReturnRow:
    """The row, if this caller may see it; another shopper's return is simply not found."""
    row = await db.get(ReturnRow, rid)
    if row is None or not may_see(who, row.order_number):
        raise ServiceError(404, NOT_FOUND)
    return row


async def open_return(db: AsyncSession, rid: str, who: Actor, temporal: Client) -> ReturnRow:
    """The row of a return that can still change; a finished one is a 409 naming its status.

    The read model may lag its workflow (workflows.publish.project): a row that says finished is taken at its word
    only once the workflow has ended. While the workflow still runs the update goes to it, and its own check of the
    status decides: a refusal never rests on the read model alone."""
    row = await visible_return(db, rid, who)
    if row.status in FINAL_STATUSES and not await still_running(temporal, rid):
        raise ended(row.status)
    return row


async def still_running(temporal: Client, rid: str) -> bool:
    """Whether the return's workflow still runs. An engine that cannot be asked is a 503: the refusal would rest on
    the read model alone."""
    try:
        described = await temporal.get_workflow_handle(rid).describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:  # no workflow (any more): the read model's word stands
            return False
        if unreachable(e):
            raise ServiceError(503, "the workflow engine is not reachable; try again shortly",
                               headers=UNAVAILABLE) from e  # fmt: skip
        raise
    return described.status == WorkflowExecutionStatus.RUNNING


async def change(db: AsyncSession, temporal: Client, rid: str, who: Actor, update: str, arg: object) -> ReturnState:
    """Send `update` (a name from workflows.contracts, answering the return's state) with `arg` to an open return
    the caller may see; its new state."""
    await open_return(db, rid, who, temporal)
    handle = temporal.get_workflow_handle(rid)
    return await call(handle.execute_update(update, arg, result_type=ReturnState), db, handle)
