"""Returns: shoppers file and follow them; staff list, approve, inspect and review them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Shopper, Staff
from api.deps import (
    UNAVAILABLE,
    Admin,
    AppSettings,
    CurrentShopper,
    DbSession,
    Finance,
    SignedIn,
    StaffAny,
    TemporalClient,
    Warehouse,
)
from api.errors import errors
from api.exchange_quotes import unknown_exchange_skus
from api.label_files import Direction, Size, label_response, label_row
from api.policy_access import CurrentPolicy
from api.reads import may_see, visible_state
from api.submit_keys import KEY_HELP, KEY_PATTERN, REUSED, keyed_return_id, new_return_id, submit_update_id
from api.temporal_calls import call, unreachable
from api.views import CreatedReturn, DecisionView, ReturnView, return_view
from db.models import ReturnRow
from db.queries import claimed_quantities, get_order, list_returns
from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import (
    FINAL_STATUSES,
    Inspection,
    InspectionLine,
    MinorUnits,
    RefundReview,
    ReturnRequest,
    Status,
    Strict,
)
from domain.policy import decide
from domain.text import Note, RequiredNote, ReturnId, Search
from workflows.return_workflow import ALREADY_SUBMITTED, ORDER_KEY, STATUS_KEY, ReturnWorkflow

router = APIRouter(prefix="/api/v1/returns", tags=["returns"], responses=errors(401, 403, 404, 409, 422, 503))
NOT_FOUND = "return not found"


def workflow_url(settings: AppSettings, rid: str) -> str:
    return f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{rid}"


async def _visible_return(db: DbSession, rid: str, who: Staff | Shopper) -> ReturnRow:
    """The row, if this caller may see it; another shopper's return is simply not found."""
    row = await db.get(ReturnRow, rid)
    if row is None or not may_see(who, row.order_number):
        raise HTTPException(404, NOT_FOUND)
    return row


async def _open_return(db: DbSession, rid: str, who: Staff | Shopper, temporal: Client) -> ReturnRow:
    """The row of a return that can still change; a finished one answers 409 naming its status.

    The read model can say a return is finished while its workflow is not: a projection (a local activity) runs
    inside a workflow task, and when that task is lost (the engine restarted) the workflow never made the change its
    row shows. Refusing a retried cancel then left the return waiting for a parcel forever, so while the workflow
    still runs the update goes to it, and its own check of the status decides."""
    row = await _visible_return(db, rid, who)
    if row.status in FINAL_STATUSES and not await _still_running(temporal, rid):
        raise HTTPException(409, f"status: the return is {row.status} and can no longer change")
    return row


async def _still_running(temporal: Client, rid: str) -> bool:
    """Whether the return's workflow still runs. An engine that cannot be asked is a 503: the refusal would rest on
    a row that a lost workflow task may have written."""
    try:
        described = await temporal.get_workflow_handle(rid).describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:  # no workflow (any more): the read model's word stands
            return False
        if unreachable(e):
            raise HTTPException(503, "the workflow engine is not reachable; try again shortly",
                                headers=UNAVAILABLE) from e  # fmt: skip
        raise
    return described.status == WorkflowExecutionStatus.RUNNING


@router.post("", status_code=201, response_model=CreatedReturn)
async def create_return(
    body: ReturnRequest,
    who: CurrentShopper,
    db: DbSession,
    temporal: TemporalClient,
    settings: AppSettings,
    policy: CurrentPolicy,
    key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=KEY_PATTERN, description=KEY_HELP)] = None,
) -> CreatedReturn:
    if body.order_number != who.order_number:
        raise HTTPException(404, "order_number: no such order for this session")
    order = await get_order(db, body.order_number)
    if order is None:
        raise HTTPException(404, "order_number: no such order for this session")
    rid = keyed_return_id(order.number, key) if key else new_return_id()
    # A quick answer for what is plainly ineligible; the workflow decides again under a lock. A retried keyed
    # submit must not be refused for the units its own first attempt claimed.
    claimed = await claimed_quantities(db, order.number, excluding=rid)
    early = decide(order, body.lines, claimed, datetime.now(UTC), policy)
    if early.ineligible:
        raise HTTPException(422, {"message": "; ".join(early.reasons),
                                  "lines": [x.model_dump() for x in early.ineligible]})  # fmt: skip
    if unknown := await unknown_exchange_skus(db, body.lines):
        raise HTTPException(422, "; ".join(unknown))
    start = WithStartWorkflowOperation(
        ReturnWorkflow.run,
        ReturnInput(return_id=rid, order_number=order.number),
        id=rid,
        task_queue=settings.task_queue,
        # Keyed: a retry joins the running return, and a finished one is never started again under its id.
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING if key else WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE if key else WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(ORDER_KEY, order.number), SearchAttributePair(STATUS_KEY, "pending_approval")]
        ),
    )
    update_id = submit_update_id(body) if key else None
    submit = SubmitRequest(lines=body.lines, parcels=body.parcels)
    try:
        answer = await call(temporal.execute_update_with_start_workflow(
            ReturnWorkflow.submit, submit, start_workflow_operation=start, id=update_id), db)  # fmt: skip
    except HTTPException as e:
        if key and e.detail == ALREADY_SUBMITTED:
            raise HTTPException(422, REUSED) from e
        raise
    except WorkflowAlreadyStartedError:  # keyed, and the return it filed has finished since: answer as then
        assert update_id is not None
        answer = await _first_answer(temporal, rid, update_id)
    view = return_view(answer)
    return CreatedReturn(**view.model_dump(), decision=DecisionView(approved=answer.decision.approved,
                                                                    reasons=answer.decision.reasons))  # fmt: skip


async def _first_answer(temporal: Client, rid: str, update_id: str) -> SubmitAnswer:
    """The outcome (answer or refusal) of the submit a finished keyed return was filed with.

    None by that id: the key was used with another body, or its return never got its submit."""
    handle = temporal.get_workflow_handle(rid).get_update_handle_for(ReturnWorkflow.submit, update_id)
    try:
        return await call(handle.result())
    except HTTPException as e:
        if e.status_code == 404:
            raise HTTPException(422, REUSED) from e
        raise


class ReturnPage(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[ReturnView]


@router.get("", response_model=ReturnPage)
async def search_returns(
    db: DbSession,
    who: StaffAny,
    settings: AppSettings,
    status: Status | None = None,
    q: Annotated[Search | None, Query(description="return id, order number, e-mail or tracking")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
    attention: Annotated[bool | None, Query(description="true: only returns staff must look at")] = None,
) -> ReturnPage:
    total, rows = await list_returns(db, status, q, limit, offset, attention=attention)
    nxt = offset + limit if offset + limit < total else None
    items = [return_view(r.state, workflow_url(settings, r.id), who=who) for r in rows]
    return ReturnPage(total=total, limit=limit, offset=offset, next_offset=nxt, items=items)


@router.get("/{rid}", response_model=ReturnView)
async def get_return(rid: ReturnId, who: SignedIn, settings: AppSettings) -> ReturnView:
    state = await visible_state(settings, rid, who)
    if state is None:
        raise HTTPException(404, NOT_FOUND)
    staff = isinstance(who, Staff)
    return return_view(state, workflow_url(settings, rid) if staff else None, who=who)


@router.get("/{rid}/label.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def get_label(
    rid: ReturnId,
    who: SignedIn,
    db: DbSession,
    direction: Direction = "inbound",
    size: Annotated[Size, Query(description="4x6 for label printers, a4 for office printers")] = "4x6",
    parcel: Annotated[int, Query(ge=1, le=99, description="which parcel of a split return")] = 1,
) -> Response:
    await _visible_return(db, rid, who)
    return await label_response(await label_row(db, rid, direction, parcel), "a4" if size == "a4" else "pdf")


@router.get("/{rid}/label.zpl", response_class=Response, responses={200: {"content": {"application/zpl": {}}}})
async def get_label_zpl(
    rid: ReturnId,
    who: SignedIn,
    db: DbSession,
    direction: Direction = "inbound",
    parcel: Annotated[int, Query(ge=1, le=99, description="which parcel of a split return")] = 1,
) -> Response:
    """The same label as ZPL II (203 dpi, 4x6) for Zebra-compatible thermal printers."""
    await _visible_return(db, rid, who)
    return await label_response(await label_row(db, rid, direction, parcel), "zpl", "attachment")


@router.post("/{rid}/cancel", response_model=ReturnView)
async def cancel_return(rid: ReturnId, who: SignedIn, db: DbSession, temporal: TemporalClient) -> ReturnView:
    if isinstance(who, Staff) and who.role != "admin":
        raise HTTPException(403, "Authorization: only the shopper or an admin can cancel a return")
    await _open_return(db, rid, who, temporal)
    by = "shopper" if isinstance(who, Shopper) else who.name
    handle = temporal.get_workflow_handle(rid)
    return return_view(
        await call(handle.execute_update(ReturnWorkflow.cancel, by), db, handle), staff=isinstance(who, Staff)
    )


@router.post("/{rid}/approve", response_model=ReturnView)
async def approve_return(rid: ReturnId, who: Admin, db: DbSession, temporal: TemporalClient) -> ReturnView:
    await _open_return(db, rid, who, temporal)
    handle = temporal.get_workflow_handle(rid)
    return return_view(await call(handle.execute_update(ReturnWorkflow.approve, who.name), db, handle), staff=True)


class RejectIn(Strict):
    reason: RequiredNote


@router.post("/{rid}/reject", response_model=ReturnView)
async def reject_return(
    rid: ReturnId, body: RejectIn, who: Admin, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    await _open_return(db, rid, who, temporal)
    handle = temporal.get_workflow_handle(rid)
    return return_view(await call(handle.execute_update(ReturnWorkflow.reject, body.reason), db, handle), staff=True)


class InspectionIn(Strict):
    lines: Annotated[list[InspectionLine], Field(min_length=1, max_length=100)]


@router.post("/{rid}/inspection", response_model=ReturnView)
async def inspect_return(
    rid: ReturnId, body: InspectionIn, who: Warehouse, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    await _open_return(db, rid, who, temporal)
    handle = temporal.get_workflow_handle(rid)
    inspection = Inspection(lines=body.lines, inspected_by=who.name)
    return return_view(
        await call(handle.execute_update(ReturnWorkflow.record_inspection, inspection), db, handle), staff=True
    )


class ReviewIn(Strict):
    approve: bool
    amount: MinorUnits | None = None
    note: Note = ""


@router.post("/{rid}/refund-review", response_model=ReturnView)
async def review_refund(
    rid: ReturnId, body: ReviewIn, who: Finance, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    await _open_return(db, rid, who, temporal)
    handle = temporal.get_workflow_handle(rid)
    review = RefundReview(**body.model_dump(), reviewed_by=who.name)
    return return_view(await call(handle.execute_update(ReturnWorkflow.review_refund, review), db, handle), who=who)
