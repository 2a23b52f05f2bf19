"""Bearer tokens: staff tokens by role, and portal sessions scoped to one order. Stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import PortalSession, StaffToken

Role = Literal["admin", "warehouse", "finance", "integration"]
ROLES: tuple[str, ...] = ("admin", "warehouse", "finance", "integration")


STAFF_TOKEN = select(StaffToken.name, StaffToken.role).where(
    StaffToken.token_hash == bindparam("digest"), StaffToken.revoked_at.is_(None)
)
PORTAL_SESSION = select(PortalSession.order_number, PortalSession.expires_at).where(
    PortalSession.token_hash == bindparam("digest")
)


@dataclass(frozen=True)
class Staff:
    name: str
    role: str


@dataclass(frozen=True)
class Shopper:
    order_number: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_staff_token(s: AsyncSession, role: str, name: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = "rvs_" + secrets.token_urlsafe(32)
    s.add(StaffToken(name=name, role=role, token_hash=hash_token(token)))
    return token


async def revoke_staff_tokens(s: AsyncSession, name: str) -> int:
    result = await s.execute(
        update(StaffToken)
        .where(StaffToken.name == name, StaffToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def create_portal_session(conn: AsyncConnection, order_number: str, hours: int) -> tuple[str, datetime]:
    """Stored at once: on an autocommit connection (db.engine.get_autocommit_engine) the INSERT is its own
    transaction."""
    token = "rvp_" + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    await conn.execute(insert(PortalSession).values(token_hash=hash_token(token), order_number=order_number,
                                                    expires_at=expires))  # fmt: skip
    return token, expires


async def resolve(s: AsyncSession | AsyncConnection, token: str) -> Staff | Shopper | None:
    # Columns, not ORM entities: every request comes through here, and an entity's loading and identity-map
    # bookkeeping were ~5% of an in-process status read; a plain connection (api.reads) skips the session too.
    digest = hash_token(token)
    if token.startswith("rvs_"):
        row = (await s.execute(STAFF_TOKEN, {"digest": digest})).first()
        return Staff(name=row.name, role=row.role) if row else None
    if token.startswith("rvp_"):
        found = (await s.execute(PORTAL_SESSION, {"digest": digest})).first()
        if found and found.expires_at > datetime.now(UTC):
            return Shopper(order_number=found.order_number)
    return None
