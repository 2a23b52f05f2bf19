"""Store credit: a ledger of codes and signed entries; a grant's key makes it happen once."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import ActivityBase
from db.models import StoreCredit, StoreCreditEntry
from domain.keys import credit_bonus_key
from domain.messages import CreditInput, CreditResult

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are typed by people


def new_code() -> str:
    return "SC-" + "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(3))


class StoreCredits(ActivityBase):
    @activity.defn(name="grant_store_credit")
    async def grant(self, inp: CreditInput) -> CreditResult:
        async with self.sessions.begin() as s:
            done = await s.scalar(select(StoreCreditEntry).where(StoreCreditEntry.key == inp.key))
            if done is not None:
                return CreditResult(code=done.code, amount=inp.amount)
            if inp.code is not None:  # more on the return's own code: the shopper keeps one code per return
                return await self._top_up(s, inp, inp.code)
            code = new_code()
            s.add(StoreCredit(code=code, email=inp.email, currency=inp.currency, balance=0, expires_at=inp.expires_at))
            await s.flush()
            inserted = await s.execute(
                insert(StoreCreditEntry)
                .values(key=inp.key, code=code, kind="grant", amount=inp.amount - inp.bonus, return_id=inp.return_id)
                .on_conflict_do_nothing()
                .returning(StoreCreditEntry.key)
            )
            if inserted.first() is None:  # a concurrent attempt won; roll our code back
                raise RuntimeError("store credit grant raced; retrying finds the winner")
            if inp.bonus:  # in the same transaction as the grant: both or neither
                s.add(StoreCreditEntry(key=credit_bonus_key(inp.key), code=code, kind="bonus", amount=inp.bonus,
                                       return_id=inp.return_id))  # fmt: skip
            await s.execute(update(StoreCredit).where(StoreCredit.code == code).values(balance=inp.amount))
        return CreditResult(code=code, amount=inp.amount)

    @staticmethod
    async def _top_up(s: AsyncSession, inp: CreditInput, code: str) -> CreditResult:
        # The code's row locked first: a concurrent attempt waits, then finds the entry and adds nothing.
        await s.execute(select(StoreCredit.code).where(StoreCredit.code == code).with_for_update())
        inserted = await s.execute(
            insert(StoreCreditEntry)
            .values(key=inp.key, code=code, kind="grant", amount=inp.amount, return_id=inp.return_id)
            .on_conflict_do_nothing()
            .returning(StoreCreditEntry.key)
        )
        if inserted.first() is not None:
            await s.execute(update(StoreCredit).where(StoreCredit.code == code)
                            .values(balance=StoreCredit.balance + inp.amount))  # fmt: skip
        return CreditResult(code=code, amount=inp.amount)
