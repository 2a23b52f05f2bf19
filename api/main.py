"""The FastAPI application: routers per audience, uniform error bodies, a lazily connected Temporal client."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import security
from api.routers import health, integrations, portal, portal_pages, returns, staff_pages, store_credit, webhooks
from settings import Settings, get_settings
from worker import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Reverso",
        version="1",
        description="Returns and exchanges orchestrator. Amounts are integers in minor units with a currency.",
    )
    app.state.settings = settings
    app.state.temporal = None
    app.state.temporal_lock = asyncio.Lock()
    app.state.connect_temporal = lambda: connect(settings)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Each error names its field as a dotted path, e.g. "body.lines.0.quantity".
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    for module in (health, integrations, portal, returns, store_credit, webhooks):
        app.include_router(module.router)
    portal_pages.install(app)
    staff_pages.install(app)
    security.install(app)
    return app
