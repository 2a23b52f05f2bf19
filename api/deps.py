"""Annotated dependencies: database session, Temporal client, and who is calling.

All are coroutines, even those that never wait: FastAPI runs a plain function in a worker thread, a
round trip to another thread per dependency per request that a loaded machine makes slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Shopper, Staff
from api.reads import principal_of
from db.engine import get_sessionmaker
from settings import Settings

bearer = HTTPBearer(auto_error=False)
UNAVAILABLE = {"Retry-After": "5"}


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


async def get_db(settings: AppSettings) -> AsyncIterator[AsyncSession]:
    async with get_sessionmaker(settings.resolved_database_url())() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]


async def get_temporal(request: Request) -> Client:
    """The shared client, connected on first use so the API starts (and reads) while Temporal is down."""
    state = request.app.state
    if state.temporal is None:
        async with state.temporal_lock:
            if state.temporal is None:
                try:
                    state.temporal = await asyncio.wait_for(state.connect_temporal(), timeout=5)
                except Exception as e:
                    raise HTTPException(503, "the workflow engine is not reachable; try again shortly",
                                        headers=UNAVAILABLE) from e  # fmt: skip
    return state.temporal


TemporalClient = Annotated[Client, Depends(get_temporal)]


async def get_principal(
    settings: AppSettings, response: Response, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Staff | Shopper | None:
    # On a reader connection (api.reads), given back before the route's session opens its transaction.
    who = await principal_of(settings, creds.credentials) if creds else None
    if who is not None:
        # What a signed-in caller reads is theirs (an order, an address, a return): no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
    return who


Principal = Annotated[Staff | Shopper | None, Depends(get_principal)]


def _unauthorized() -> HTTPException:
    return HTTPException(401, "Authorization: a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def staff(*roles: str) -> Callable[..., Awaitable[Staff]]:
    """Dependency for staff endpoints; admin may do everything."""

    async def check(who: Principal) -> Staff:
        if not isinstance(who, Staff):
            raise _unauthorized()
        if not who.may(*roles):
            raise HTTPException(403, f"Authorization: role {who.role} cannot do this; needs {' or '.join(roles)}")
        return who

    return check


async def shopper(who: Principal) -> Shopper:
    if not isinstance(who, Shopper):
        raise _unauthorized()
    return who


async def anyone_signed_in(who: Principal) -> Staff | Shopper:
    if who is None:
        raise _unauthorized()
    return who


CurrentShopper = Annotated[Shopper, Depends(shopper)]
SignedIn = Annotated[Staff | Shopper, Depends(anyone_signed_in)]
StaffAny = Annotated[Staff, Depends(staff("warehouse", "finance", "integration"))]
Admin = Annotated[Staff, Depends(staff("admin"))]
Warehouse = Annotated[Staff, Depends(staff("warehouse"))]
Finance = Annotated[Staff, Depends(staff("finance"))]
Integration = Annotated[Staff, Depends(staff("integration"))]
