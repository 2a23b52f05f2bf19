"""Store credit for the shop's checkout: read a code's balance, redeem part of it exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from api.deps import DbSession, Integration
from api.errors import errors
from db.models import StoreCredit, StoreCreditEntry
from domain.models import Strict
from domain.text import OneLine

router = APIRouter(prefix="/api/v1/store-credit", tags=["store credit"], responses=errors(401, 403, 404, 409, 422, 503))
Code = Annotated[str, Path(min_length=3, max_length=40, description="the store credit's code"), OneLine]


class Balance(BaseModel):
    code: str
    currency: str
    balance: int
    expires_at: datetime | None


class RedeemIn(Strict):
    amount: Annotated[int, Field(ge=1, le=10**12)]
    # At most 150: it is part of the ledger's key ("redeem:", the code, ":", the reference), 200 characters.
    order_reference: Annotated[str, Field(min_length=1, max_length=150), OneLine]


class Redemption(Balance):
    amount: int
    order_reference: str


async def _credit(db: DbSession, code: str, lock: bool = False) -> StoreCredit:
    stmt = select(StoreCredit).where(StoreCredit.code == code.strip().upper())
    credit = await db.scalar(stmt.with_for_update() if lock else stmt)
    if credit is None:
        raise HTTPException(404, "code: no such store credit")
    return credit


@router.get("/{code}", response_model=Balance)
async def balance(code: Code, db: DbSession, _: Integration) -> Balance:
    c = await _credit(db, code)
    return Balance(code=c.code, currency=c.currency, balance=c.balance, expires_at=c.expires_at)


@router.post("/{code}/redeem", response_model=Redemption)
async def redeem(code: Code, body: RedeemIn, db: DbSession, _: Integration) -> Redemption:
    """Idempotent by order_reference; the row lock makes concurrent redeems take turns, so the
    balance never goes below zero."""
    c = await _credit(db, code, lock=True)
    key = f"redeem:{c.code}:{body.order_reference}"
    earlier = await db.scalar(select(StoreCreditEntry).where(StoreCreditEntry.key == key))
    if earlier is not None:  # the same checkout asking again: answer as before, change nothing
        if -earlier.amount != body.amount:
            raise HTTPException(409, f"order_reference: already redeemed {-earlier.amount} for this order")
        return Redemption(code=c.code, currency=c.currency, balance=c.balance, expires_at=c.expires_at,
                          amount=body.amount, order_reference=body.order_reference)  # fmt: skip
    if c.expires_at is not None and c.expires_at <= datetime.now(c.expires_at.tzinfo):
        raise HTTPException(409, "code: this store credit has expired")
    if body.amount > c.balance:
        raise HTTPException(409, f"amount: {body.amount} is more than the balance of {c.balance}")
    await db.execute(insert(StoreCreditEntry).values(key=key, code=c.code, kind="redeem", amount=-body.amount,
                                                     order_reference=body.order_reference))  # fmt: skip
    left = await db.scalar(
        update(StoreCredit)
        .where(StoreCredit.code == c.code)
        .values(balance=StoreCredit.balance - body.amount)
        .returning(StoreCredit.balance)
    )
    await db.commit()
    return Redemption(code=c.code, currency=c.currency, balance=int(left or 0), expires_at=c.expires_at,
                      amount=body.amount, order_reference=body.order_reference)  # fmt: skip
