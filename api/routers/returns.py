"""Returns: shoppers file and follow them; staff list, approve, inspect and review them."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel

from api.auth import Staff
from api.deps import (
    Admin,
    AppSettings,
    CurrentShopper,
    DbSession,
    Finance,
    SignedIn,
    StaffAny,
    TemporalClient,
    Warehouse,
    staff,
)
from api.errors import errors
from api.label_files import Direction, Size, label_response, label_row
from api.policy_access import CurrentPolicy
from api.reads import visible_state
from api.returns_csv import MOST_ROWS, returns_csv
from api.services.access import NOT_FOUND, visible_return
from api.services.approve import approve
from api.services.bulk_approve import BulkApproveIn, BulkResult, bulk_approve
from api.services.cancel import cancel
from api.services.file import file_return
from api.services.inspection import InspectionIn, inspect
from api.services.reject import RejectIn, reject
from api.services.resolve import ROLES, ResolveIn, may_take, refusal, resolve
from api.services.review import ReviewIn, review
from api.submit_keys import KEY_HELP, KEY_PATTERN
from api.views import CreatedReturn, ReturnView, decision_view, return_view
from db.queries import Sort, list_returns
from domain.models import ReturnRequest, Status
from domain.text import ReturnId, Search

router = APIRouter(prefix="/api/v1/returns", tags=["returns"], responses=errors(401, 403, 404, 409, 422, 503))


def workflow_url(settings: AppSettings, rid: str) -> str:
    return f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{rid}"


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
    answer = await file_return(db, temporal, settings.task_queue, policy, who, body, key)
    view = return_view(answer)
    return CreatedReturn(**view.model_dump(), decision=decision_view(answer.decision, "shopper"))


class ReturnPage(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[ReturnView]


QueryText = Annotated[Search | None, Query(description="return id, order number, e-mail or tracking")]
Attention = Annotated[bool | None, Query(description="true: only returns staff must look at")]
SortBy = Annotated[Sort, Query(description='the order of the list: a field, descending with "-" first')]


@router.get("", response_model=ReturnPage)
async def search_returns(
    db: DbSession,
    who: StaffAny,
    settings: AppSettings,
    status: Status | None = None,
    q: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
    attention: Attention = None,
    sort: SortBy = "-updated_at",
) -> ReturnPage:
    total, rows = await list_returns(db, status, q, limit, offset, attention=attention, sort=sort)
    nxt = offset + limit if offset + limit < total else None
    items = [return_view(r.state, workflow_url(settings, r.id), who=who) for r in rows]
    return ReturnPage(total=total, limit=limit, offset=offset, next_offset=nxt, items=items)


# Registered before /{rid}: "returns.csv" is a path of its own, and "bulk-approve" is no return id.
csv_router = APIRouter(prefix="/api/v1", tags=["returns"], responses=errors(401, 403, 422, 503))


@csv_router.get("/returns.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_returns(
    db: DbSession,
    who: StaffAny,
    status: Status | None = None,
    q: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=MOST_ROWS)] = MOST_ROWS,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
    attention: Attention = None,
    sort: SortBy = "-updated_at",
) -> Response:
    """The list's returns (same query as `GET /api/v1/returns`) as CSV, amounts in minor units."""
    return await returns_csv(db, status, q, attention, sort, limit, offset)


class BulkApproveOut(BaseModel):
    results: list[BulkResult]


@router.post("/bulk-approve", response_model=BulkApproveOut)
async def bulk_approve_returns(
    body: BulkApproveIn, who: Admin, db: DbSession, temporal: TemporalClient
) -> BulkApproveOut:
    """Approve each listed return that waits for approval; one result per id (`approved`, `not_pending` with its
    status, `not_found`)."""
    return BulkApproveOut(results=await bulk_approve(db, temporal, body.ids, who))


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
    await visible_return(db, rid, who)
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
    await visible_return(db, rid, who)
    return await label_response(await label_row(db, rid, direction, parcel), "zpl", "attachment")


@router.post("/{rid}/cancel", response_model=ReturnView)
async def cancel_return(rid: ReturnId, who: SignedIn, db: DbSession, temporal: TemporalClient) -> ReturnView:
    return return_view(await cancel(db, temporal, rid, who), staff=isinstance(who, Staff))


@router.post("/{rid}/approve", response_model=ReturnView)
async def approve_return(rid: ReturnId, who: Admin, db: DbSession, temporal: TemporalClient) -> ReturnView:
    return return_view(await approve(db, temporal, rid, who), staff=True)


@router.post("/{rid}/reject", response_model=ReturnView)
async def reject_return(
    rid: ReturnId, body: RejectIn, who: Admin, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    return return_view(await reject(db, temporal, rid, who, body), staff=True)


@router.post("/{rid}/inspection", response_model=ReturnView)
async def inspect_return(
    rid: ReturnId, body: InspectionIn, who: Warehouse, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    return return_view(await inspect(db, temporal, rid, who, body), staff=True)


@router.post("/{rid}/refund-review", response_model=ReturnView)
async def review_refund(
    rid: ReturnId, body: ReviewIn, who: Finance, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    return return_view(await review(db, temporal, rid, who, body), who=who)


async def _may_resolve(request: Request, who: Annotated[Staff, Depends(staff("warehouse", "finance"))]) -> Staff:
    """The role first: a 403 for an action that is not the caller's, before the body's other fields are checked
    (which one is whose: api.services.resolve.ROLES; admin takes all)."""
    try:
        action = json.loads(await request.body()).get("action")
    except (ValueError, AttributeError, RecursionError):
        return who  # not a JSON object: the body's own 422
    if isinstance(action, str) and action in ROLES and not may_take(who, action):
        raise HTTPException(403, refusal(action))
    return who


Resolver = Annotated[Staff, Depends(_may_resolve)]


@router.post("/{rid}/resolve", response_model=ReturnView)
async def resolve_return(
    rid: ReturnId, body: ResolveIn, who: Resolver, db: DbSession, temporal: TemporalClient
) -> ReturnView:
    """A person's action on a return in the Exceptions queue: retry, store_credit, refund_outside and
    refund_without_receipt are finance's, close admin's, reopen the warehouse's; admin may take every one. 403 for
    another role, 409 when the action does not fit the return now (its `resolutions`), 422 naming the field."""
    return return_view(await resolve(db, temporal, rid, who, body), who=who)
