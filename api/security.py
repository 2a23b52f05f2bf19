"""Security headers on every response: a strict CSP (no inline script or style), no framing, no referrer leaks."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def csp(img_origins: list[str]) -> str:
    """The policy: only our own scripts and styles; images also from the shop's origins (REVERSO_BRAND__IMAGE_ORIGINS
    and the logo's), which domain.brand has held to scheme://host[:port]."""
    images = " ".join(["'self'", "data:", *img_origins])
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


# FastAPI's Swagger UI page starts itself with an inline script: the one page without the CSP.
DOCS = ("/docs",)


class SecurityHeaders:
    """Plain ASGI rather than @app.middleware("http"), whose per-request task group and streams cost more
    than the headers. Unlike that one it does not cancel a request whose client hung up: a submit runs to its
    end and its return is filed, so callers that retry send an Idempotency-Key (api/submit_keys.py)."""

    def __init__(self, app: ASGIApp, img_origins: list[str]) -> None:
        self.app = app
        self.with_csp = {**HEADERS, "Content-Security-Policy": csp(img_origins)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = HEADERS if scope["path"].startswith(DOCS) else self.with_csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(wanted)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    """The 500 for an unhandled exception, shaped like every other error (which is still raised on, for the log)."""
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install(app: FastAPI, img_origins: list[str]) -> None:
    """SecurityHeaders around the whole middleware stack, not as one of the app's middleware: FastAPI puts its
    ServerErrorMiddleware (the 500s) and body-size limit (413) outside those, and their answers went out bare."""
    app.add_exception_handler(Exception, server_error)
    inner = app.build_middleware_stack  # Starlette builds the stack at the first request, from this method
    app.build_middleware_stack = lambda: SecurityHeaders(inner(), img_origins)  # type: ignore[method-assign]  # wrapped on purpose, see above
