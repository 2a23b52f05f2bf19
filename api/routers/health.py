"""/healthz: 200 when PostgreSQL and Temporal both answer; otherwise 503 naming what is down."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc, text

from api.deps import UNAVAILABLE, get_temporal
from db.engine import get_engine

log = logging.getLogger("reverso.api")
router = APIRouter(tags=["health"])


async def _postgres(request: Request) -> str:
    try:
        async with get_engine(request.app.state.settings.resolved_database_url()).connect() as conn:
            await asyncio.wait_for(conn.execute(text("select 1")), timeout=3)
        return "ok"
    except Exception:
        return "down"


async def _temporal(request: Request) -> str:
    try:
        client = await get_temporal(request)
        if not await client.service_client.check_health(timeout=timedelta(seconds=3)):
            return "down"
        return "ok"
    except Exception:
        return "down"


class Health(BaseModel):
    postgres: Literal["ok", "down"]
    temporal: Literal["ok", "down"]


@router.get("/healthz", response_model=Health,
            responses={503: {"model": Health, "description": "a part is down; the body says which"}})  # fmt: skip
async def healthz(request: Request) -> JSONResponse:
    pg, tp = await asyncio.gather(_postgres(request), _temporal(request))
    body = {"postgres": pg, "temporal": tp}
    return JSONResponse(body, status_code=200 if pg == tp == "ok" else 503)


def install(app: FastAPI) -> None:
    """A database that cannot be reached (down, restarting, or every pooled connection busy) is a 503 with
    Retry-After, as for the workflow engine: nothing is wrong with the request, it is worth sending again."""

    async def database_unavailable(request: Request, e: Exception) -> JSONResponse:
        # The exception's class and first line name the cause (refused, pool exhausted) without the query's values.
        log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path, type(e).__name__,
                    str(e).splitlines()[0] if str(e) else "")  # fmt: skip
        return JSONResponse({"detail": "the database is not reachable; try again shortly", "code": "unavailable"},
                            status_code=503, headers=UNAVAILABLE)  # fmt: skip

    for kind in (exc.OperationalError, exc.InterfaceError, exc.TimeoutError):
        app.add_exception_handler(kind, database_unavailable)
