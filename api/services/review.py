"""Finance's review of a refund held for it: approve (possibly a smaller amount) or deny."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Staff
from api.services.access import change
from db.models import ReturnRow
from db.policy_store import current_policy, policy_version
from domain.codes import Coded
from domain.models import MinorUnits, RefundReview, ReturnState, Strict
from domain.policy import PolicySettings, settle
from domain.text import Note
from workflows.contracts import REVIEW_REFUND


class ReviewIn(Strict):
    approve: bool
    amount: MinorUnits | None = None
    note: Note = ""


async def review(db: AsyncSession, temporal: Client, rid: str, who: Staff, body: ReviewIn) -> ReturnState:
    decision = RefundReview(**body.model_dump(), reviewed_by=who.name)
    return await change(db, temporal, rid, who, REVIEW_REFUND, decision)


async def review_facts(db: AsyncSession, row: ReturnRow, seed: PolicySettings) -> dict[str, Any]:
    """What finance decides on: the refundable amount, why the refund was held, its currency.

    `seed`: the settings' policy, in force while none was ever saved (db.policy_store.current_policy)."""
    state = ReturnState.model_validate(row.state)
    # Settled under the policy version the return was decided under, as the workflow does.
    stored = await policy_version(db, state.policy_version) if state.policy_version else None
    policy = stored.policy if stored else (await current_policy(db, seed)).policy
    refundable = sum(x.refund for x in settle(state.lines, policy))
    # Why: the reasons the workflow held it with, on its last `finance_review` timeline entry.
    held = [e for e in state.timeline if e.code == "finance_review"]
    why = [Coded.model_validate(x) for x in held[-1].params.get("reasons", [])] if held else []
    return {"refundable": refundable, "why": why, "currency": state.currency}
