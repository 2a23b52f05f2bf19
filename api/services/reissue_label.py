"""A new label for a return awaiting shipment: the old ones are voided, the new ones e-mailed.

Past the policy's `label_reissues_per_day` the workflow refuses with a 429 whose Retry-After says when to ask again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.services.access import Actor, by, change
from domain.models import ReturnState
from workflows.contracts import REISSUE_LABEL


async def reissue_label(db: AsyncSession, temporal: Client, rid: str, who: Actor) -> ReturnState:
    return await change(db, temporal, rid, who, REISSUE_LABEL, by(who))
