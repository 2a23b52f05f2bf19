"""Bearer tokens: staff tokens by role, and portal sessions scoped to one order; and the staff consoles' sessions.

All stored hashed. Tokens are for the shop's systems and scripts (the JSON API); the consoles take people's
accounts only (api.staff_accounts). A console session id is not a bearer token (its prefix, rvc_, is none
`resolve` knows), so a cookie that leaks opens no API, and it dies with the account it was opened for."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import PortalSession, StaffAccount, StaffSession, StaffToken

Role = Literal["admin", "warehouse", "finance", "integration"]
ROLES: tuple[str, ...] = ("admin", "warehouse", "finance", "integration")


STAFF_TOKEN = select(StaffToken.name, StaffToken.role).where(
    StaffToken.token_hash == bindparam("digest"), StaffToken.revoked_at.is_(None)
)
PORTAL_SESSION = select(PortalSession.order_number, PortalSession.expires_at).where(
    PortalSession.token_hash == bindparam("digest")
)
# A console session is a person's (api.staff_accounts): it ends with the account. API tokens open no console.
ACCOUNT_SESSION = (
    select(StaffAccount.name, StaffAccount.roles)
    .join(StaffSession, StaffSession.account_id == StaffAccount.id)
    .where(StaffSession.id_hash == bindparam("digest"), StaffSession.expires_at > bindparam("now"),
           StaffAccount.disabled_at.is_(None))
)  # fmt: skip
ACCOUNT_ROLES = ("admin", "warehouse", "finance")


def console_role(roles: list[str] | tuple[str, ...]) -> str:
    """An account's first role (admin, then warehouse, then finance): the console it lands on after signing in."""
    return next(r for r in ACCOUNT_ROLES if r in roles)


@dataclass(frozen=True)
class Staff:
    """Who acts: a token's name and role, or a person's name and every role of their account (`role` the first)."""

    name: str
    role: str
    roles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.roles:
            object.__setattr__(self, "roles", (self.role,))

    def may(self, *wanted: str) -> bool:
        """Whether one of this caller's roles is one of `wanted` (none: any); admin may do everything."""
        return not wanted or "admin" in self.roles or any(r in self.roles for r in wanted)


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
    """Revoke every live token with this name (and any console session a token opened before consoles took accounts
    only)."""
    result = await s.execute(
        update(StaffToken)
        .where(StaffToken.name == name, StaffToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(StaffToken.id)
    )
    revoked = list(result.scalars())
    if revoked:
        await s.execute(delete(StaffSession).where(StaffSession.token_id.in_(revoked)))
    return len(revoked)


async def console_staff(conn: AsyncSession | AsyncConnection, session_id: str) -> Staff | None:
    if not session_id.startswith("rvc_"):
        return None
    params = {"digest": hash_token(session_id), "now": datetime.now(UTC)}
    if person := (await conn.execute(ACCOUNT_SESSION, params)).first():
        return Staff(name=person.name, role=console_role(person.roles), roles=tuple(person.roles))
    return None


async def close_console_session(s: AsyncSession | AsyncConnection, session_id: str) -> None:
    await s.execute(delete(StaffSession).where(StaffSession.id_hash == hash_token(session_id)))


async def create_portal_session(conn: AsyncConnection, order_number: str, hours: int) -> tuple[str, datetime]:
    """Stored at once: on an autocommit connection (db.engine.get_autocommit_engine) the INSERT is its own
    transaction."""
    token = "rvp_" + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    await conn.execute(insert(PortalSession).values(token_hash=hash_token(token), order_number=order_number,
                                                    expires_at=expires))  # fmt: skip
    return token, expires


async def close_portal_session(s: AsyncSession | AsyncConnection, token: str) -> None:
    """Sign a shopper out: the session's token stops working at once, in the portal and as a bearer token."""
    if token.startswith("rvp_"):
        await s.execute(delete(PortalSession).where(PortalSession.token_hash == hash_token(token)))


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
