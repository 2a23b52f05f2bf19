"""For shoppers: a session scoped to one order, and that order with what can be returned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, Response, UploadFile
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from api import portal_access
from api.auth import close_portal_session
from api.deps import AppSettings, CurrentShopper, DbSession, bearer
from api.errors import errors
from api.photos import MAX_BYTES
from api.policy_access import CurrentPolicy
from api.services import shopper_photos
from api.services.preview import preview
from api.views import decision_for, said
from db.queries import claimed_quantities, get_order
from domain.codes import Coded
from domain.eligibility import judge_line
from domain.models import Address, Decision, ReturnLineRequest, ShortText, Strict
from domain.policy import ReasonRequirement
from domain.text import OneLine

router = APIRouter(prefix="/api/v1/portal", tags=["portal"], responses=errors(401, 404, 422, 429, 503))
NOT_FOUND = "no order with this number and e-mail"


class SessionIn(Strict):
    order_number: ShortText
    # Not checked as an address: any mismatch with the order's e-mail is the same 404 as a wrong one.
    email: Annotated[str, Field(min_length=1, max_length=254), OneLine]


class SessionOut(BaseModel):
    token: str
    expires_at: datetime


@router.post("/session", response_model=SessionOut, responses={404: {}, 429: {}})
async def open_session(
    body: SessionIn, request: Request, response: Response, db: DbSession, settings: AppSettings
) -> SessionOut:
    client = request.client.host if request.client else "unknown"
    token, expires = await portal_access.open_session(db, settings, body.order_number.strip(), body.email, client)
    response.headers["Cache-Control"] = "no-store"
    return SessionOut(token=token, expires_at=expires)


@router.delete("/session", status_code=204, response_class=Response)
async def close_session(
    _: CurrentShopper, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], db: DbSession
) -> Response:
    """Sign out: the bearer session this is called with stops working, here and in the portal's pages."""
    if creds:  # always: CurrentShopper answered 401 without one
        await close_portal_session(db, creds.credentials)
        await db.commit()
    return Response(status_code=204)


class PortalLine(BaseModel):
    id: str
    sku: str
    title: str
    quantity: int
    unit_price: int
    final_sale: bool
    returnable_quantity: int
    eligible: bool
    reason: str | None  # why not, in the shopper's words
    reason_code: Coded | None = None  # the same as a code (domain/reason_codes.py), without the shop's tags
    return_reasons: list[str] = []  # the reasons this item may be returned for (its category's, or the policy's)


class PortalOrder(BaseModel):
    number: str
    email: str
    currency: str
    placed_at: datetime
    delivered_at: datetime | None
    shipping_address: Address
    lines: list[PortalLine]
    return_reasons: list[str]
    return_window_days: int
    # reason -> what a line with it must carry (a comment, at least `photos` photos); reasons not named ask nothing
    reason_requirements: dict[str, ReasonRequirement] = {}


@router.get("/order", response_model=PortalOrder)
async def portal_order(who: CurrentShopper, db: DbSession, policy: CurrentPolicy) -> PortalOrder:
    order = await get_order(db, who.order_number)
    if order is None:
        raise HTTPException(404, NOT_FOUND)
    claimed = await claimed_quantities(db, order.number)
    now = datetime.now(UTC)
    lines = []
    for line in order.lines:
        verdict = judge_line(order, line, claimed.get(line.id, 0), now, policy)
        code = verdict.refusal_code
        (reason,), (shown,) = said([verdict.refusal or ""], [code], "shopper") if code else ([None], [None])
        lines.append(PortalLine(**line.model_dump(), returnable_quantity=verdict.returnable, eligible=verdict.eligible,
                                reason=reason, reason_code=shown,
                                return_reasons=policy.reasons_for(line.category)))  # fmt: skip
    return PortalOrder(number=order.number, email=order.email, currency=order.currency, placed_at=order.placed_at,
                       delivered_at=order.delivered_at, shipping_address=order.shipping_address, lines=lines,
                       return_reasons=policy.reasons, return_window_days=policy.window_days,
                       reason_requirements=policy.reason_requirements)  # fmt: skip


class EstimateIn(Strict):
    lines: Annotated[list[ReturnLineRequest], Field(min_length=1, max_length=100)]


@router.post("/estimate", response_model=Decision)
async def estimate(body: EstimateIn, who: CurrentShopper, db: DbSession, policy: CurrentPolicy) -> Decision:
    """What a return of these lines would get, line by line with the reasons: the same code the workflow decides
    with (it decides again at submit, under a lock and the policy then in force)."""
    order = await get_order(db, who.order_number)
    if order is None:
        raise HTTPException(404, NOT_FOUND)
    decision = await preview(db, order, body.lines, policy)
    # The shopper's words and codes; the screening's notes (block list, serial returner) are for staff, and
    # `reasons` already tells the shopper a person will review it.
    return decision_for(decision, "shopper")


@router.post("/photos", status_code=201, response_model=shopper_photos.ShopperPhotoOut, responses=errors(413))
async def upload_photo(
    who: CurrentShopper,
    db: DbSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MiB; its metadata is removed")],
) -> shopper_photos.ShopperPhotoOut:
    """Keep a photo of an item to return; name its `id` in the return line's `photo_ids` (up to 3 per line). Only a
    return of this session's order may name it; staff see it with the return."""
    return await shopper_photos.upload(db, who, await file.read(MAX_BYTES + 1))
