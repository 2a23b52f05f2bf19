"""Record the warehouse's inspection of a received return: what is accepted, in which condition and with which
outcome, restocked, and the photos (api.services.photos) taken of each line."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from api.services.photos import check_named
from domain.models import Inspection, InspectionLine, ReturnState, Strict
from workflows.contracts import RECORD_INSPECTION


class InspectionIn(Strict):
    lines: Annotated[list[InspectionLine], Field(min_length=1, max_length=100)]


async def inspect(db: AsyncSession, temporal: Client, rid: str, who: Staff, body: InspectionIn) -> ReturnState:
    await check_named(db, rid, who, [(x.line_id, list(x.photos)) for x in body.lines])
    inspection = Inspection(lines=body.lines, inspected_by=who.name)
    return await change(db, temporal, rid, who, RECORD_INSPECTION, inspection)
