"""A person's action on a return in the Exceptions queue (POST /api/v1/returns/{id}/resolve, and the staff pages'
buttons): who may take which action, then the return's workflow decides whether it fits now."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from api.services.errors import ServiceError
from domain.models import MinorUnits, ResolveAction, ResolveRequest, ReturnState, Strict
from domain.text import OneLine, RequiredNote
from workflows.contracts import RESOLVE

# Who may take each action besides admin, who may take every one (issue 17's table).
ROLES: dict[str, tuple[str, ...]] = {
    "retry": ("finance",),
    "store_credit": ("finance",),
    "refund_outside": ("finance",),
    "refund_without_receipt": ("finance",),
    "close": ("admin",),
    "reopen": ("warehouse",),
}


class ResolveIn(Strict):
    """The request body; who resolved it is the caller."""

    action: ResolveAction
    note: RequiredNote  # for staff only: why
    amount: MinorUnits | None = Field(None, description="default: what is still owed; more than that is refused")
    # Checked here, not in a model validator, so a refusal names the field (body.reference).
    reference: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = Field(None, validate_default=True)

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("action") == "refund_outside" and not value:
            raise ValueError("required for refund_outside: the refund's reference outside Reverso")
        return value


def may_take(who: Staff, action: str) -> bool:
    return who.may(*ROLES.get(action, ("admin",)))


def refusal(action: str) -> str:
    return f"Authorization: {action} is for {' or '.join(('admin', *ROLES[action]))}"


async def resolve(db: AsyncSession, temporal: Client, rid: str, who: Staff, body: ResolveIn) -> ReturnState:
    if not may_take(who, body.action):
        raise ServiceError(403, refusal(body.action))
    req = ResolveRequest(action=body.action, note=body.note, amount=body.amount, reference=body.reference,
                         by=who.name)  # fmt: skip
    return await change(db, temporal, rid, who, RESOLVE, req)
