"""Parcels of a return: a new label for the shopper, and the warehouse closing receiving of a split return."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import Staff
from api.deps import DbSession, SignedIn, TemporalClient, Warehouse
from api.errors import ErrorBody, errors
from api.services import receive
from api.services import reissue_label as reissue
from api.views import ReturnView, return_view
from domain.text import ReturnId

router = APIRouter(prefix="/api/v1/returns", tags=["returns"], responses=errors(401, 403, 404, 409, 422, 503))


@router.post("/{rid}/label", response_model=ReturnView, responses={429: {
    "model": ErrorBody, "description": "the policy's label_reissues_per_day is reached; Retry-After says when to ask again",
}})  # fmt: skip
async def reissue_label(rid: ReturnId, who: SignedIn, db: DbSession, temporal: TemporalClient) -> ReturnView:
    """Void the return's current labels and e-mail new ones (409 unless it is awaiting shipment; 429 with
    Retry-After past the policy's `label_reissues_per_day` in 24 hours, which the workflow counts).

    The return's expiry does not move: the new labels must still be used before it."""
    return return_view(await reissue.reissue_label(db, temporal, rid, who), staff=isinstance(who, Staff))


@router.post("/{rid}/receive", response_model=ReturnView)
async def close_receiving(rid: ReturnId, who: Warehouse, db: DbSession, temporal: TemporalClient) -> ReturnView:
    """Receive a return shipped in several parcels without waiting for the rest; the missing ones are logged."""
    return return_view(await receive.close_receiving(db, temporal, rid, who), staff=True)
