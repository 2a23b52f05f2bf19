"""The FastAPI application: routers per audience, uniform error bodies, a lazily connected Temporal client."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import log_privacy, security, temporal_calls
from api.routers import (
    brand,
    health,
    integrations,
    logistics,
    photos,
    policy,
    portal,
    portal_pages,
    portal_return_pages,
    returns,
    staff_accounts,
    staff_pages,
    store_credit,
    webhooks,
)
from api.services.errors import ServiceError, as_http, http_with_code
from settings import Settings, get_settings


@asynccontextmanager
async def _long_lived_objects_frozen(app: FastAPI) -> AsyncIterator[None]:
    # The ~190,000 objects of the imported libraries and the app live as long as the process; a full
    # collection walked them all, a 50 ms pause for every request in flight (the portal's status read tail).
    gc.collect()
    gc.freeze()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_long_lived_objects_frozen,
        title="Reverso",
        version="1",
        description="Returns and exchanges orchestrator. Amounts are integers in minor units with a currency.",
        docs_url=None,  # served below from api/static/swagger: FastAPI's default loads Swagger UI from a CDN
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="Reverso API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon.png")  # fmt: skip

    app.state.settings = settings
    app.state.temporal = None
    app.state.temporal_lock = asyncio.Lock()
    app.state.connect_temporal = lambda: temporal_calls.connect(settings)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Each error names its field as a dotted path, e.g. "body.lines.0.quantity". No `input`: it is the very value
        # refused (a NUL, a lone surrogate). The reason without pydantic's "Value error, " before our own sentence.
        detail = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"].removeprefix("Value error, "),
                   "type": e["type"]} for e in exc.errors()]  # fmt: skip
        return JSONResponse({"detail": detail, "code": "invalid_field"}, status_code=422)

    # A use case's refusal (api.services) and any other HTTP error: {detail, code} (api.services.errors).
    app.add_exception_handler(ServiceError, as_http)
    app.add_exception_handler(StarletteHTTPException, http_with_code)
    app.include_router(returns.csv_router)  # /api/v1/returns.csv, before /api/v1/returns/{id} (issue 18)
    for module in (health, integrations, logistics, photos, policy, portal, returns, store_credit, webhooks):
        app.include_router(module.router)
    health.install(app)  # 503 + Retry-After while the database is unreachable
    log_privacy.install()  # no e-mail (search) or store-credit code in access log lines
    portal_pages.install(app)
    app.include_router(portal_return_pages.router)  # the shopper's own return
    staff_pages.install(app)
    app.include_router(staff_accounts.router)  # people's sign-in, password links
    app.include_router(brand.router)  # the shop's colours (REVERSO_BRAND__COLOR)
    security.install(app, settings.brand.img_sources())
    return app
