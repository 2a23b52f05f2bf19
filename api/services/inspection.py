"""Record the warehouse's inspection of a received return: what is accepted, in which condition, restocked."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from domain.models import Inspection, InspectionLine, ReturnState, Strict
from workflows.contracts import RECORD_INSPECTION


class InspectionIn(Strict):
    lines: Annotated[list[InspectionLine], Field(min_length=1, max_length=100)]


async def inspect(db: AsyncSession, temporal: Client, rid: str, who: Staff, body: InspectionIn) -> ReturnState:
    inspection = Inspection(lines=body.lines, inspected_by=who.name)
    return await change(db, temporal, rid, who, RECORD_INSPECTION, inspection)
