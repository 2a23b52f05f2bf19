"""Store credit: a ledger of codes and signed entries; a grant's key makes it happen once."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from activities.base import ActivityBase
from db.models import StoreCredit, StoreCreditEntry
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
                s.add(StoreCreditEntry(key=f"{inp.key}:bonus", code=code, kind="bonus", amount=inp.bonus,
                                       return_id=inp.return_id))  # fmt: skip
            await s.execute(update(StoreCredit).where(StoreCredit.code == code).values(balance=inp.amount))
        return CreditResult(code=code, amount=inp.amount)
