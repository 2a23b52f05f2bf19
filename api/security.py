"""Security headers on every response: a strict CSP (no inline script or style), no framing, no referrer leaks."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
# FastAPI's Swagger UI page starts itself with an inline script: the one page without the CSP.
DOCS = ("/docs",)


class SecurityHeaders:
    """Plain ASGI rather than @app.middleware("http"), whose per-request task group and streams cost more
    than the headers. Unlike that one it does not cancel a request whose client hung up: a submit runs to its
    end and its return is filed, so callers that retry send an Idempotency-Key (api/submit_keys.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_csp = not scope["path"].startswith(DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(HEADERS)
                if with_csp:
                    headers["Content-Security-Policy"] = CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
