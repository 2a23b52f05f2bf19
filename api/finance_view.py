"""What the finance review pages add beside a refund (issue 18), in the reader's language: used by the finance queue
and a return's page (api.routers.staff_pages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.i18n import translator
from api.services.finance_facts import finance_facts, why_shown
from db.models import ReturnRow
from domain.codes import Coded
from settings import Settings


async def review_extras(
    db: AsyncSession, settings: Settings, row: ReturnRow, why: list[Coded], lang: str
) -> dict[str, Any]:
    """{"facts": api.services.finance_facts.finance_facts(...), "why_shown": the reasons in words}."""
    facts = await finance_facts(db, settings, row)
    shown = why_shown(why, facts["outcomes"], translator(lang))
    return {"facts": facts, "why_shown": shown}
