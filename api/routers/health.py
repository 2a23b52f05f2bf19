"""/healthz: 200 when PostgreSQL and Temporal both answer; otherwise 503 naming what is down."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import get_temporal
from db.engine import get_engine

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


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    pg, tp = await asyncio.gather(_postgres(request), _temporal(request))
    body = {"postgres": pg, "temporal": tp}
    return JSONResponse(body, status_code=200 if pg == tp == "ok" else 503)
