"""Guessing order numbers and e-mails is slowed to a stop; every page carries the security headers."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import httpx
import pytest

from api.main import create_app

pytestmark = pytest.mark.asyncio(loop_scope="session")


@asynccontextmanager
async def client_from(settings, address: str, **limits: int):
    app = create_app(settings.model_copy(update=limits))
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def guess(number: str, email: str) -> dict:
    return {"order_number": number, "email": email}


async def test_wrong_emails_for_one_order_lock_it_with_429_and_retry_after(settings, shop):
    order = await shop.order(email_addr="owner@example.com")
    async with client_from(settings, "10.20.0.1") as c, client_from(settings, "10.20.0.2") as other:
        for i in range(settings.portal_failures_per_order):
            r = await c.post("/api/v1/portal/session", json=guess(order.number, f"guess{i}@example.com"))
            assert r.status_code == 404
        locked = await other.post("/api/v1/portal/session", json=guess(order.number, "owner@example.com"))
        assert locked.status_code == 429  # the order is locked, whichever address asks
        assert 0 < int(locked.headers["Retry-After"]) <= settings.portal_failure_window_minutes * 60
        assert "detail" in locked.json()
        fresh = await shop.order(email_addr="someone@example.com")
        ok = await other.post("/api/v1/portal/session", json=guess(fresh.number, "someone@example.com"))
        assert ok.status_code == 200  # other orders are not affected


async def test_one_client_guessing_many_orders_is_stopped(settings, shop):
    order = await shop.order(email_addr="owner@example.com")
    async with client_from(settings, "10.20.0.3", portal_failures_per_client=3) as c:
        for _ in range(3):
            r = await c.post("/api/v1/portal/session", json=guess("X" + uuid.uuid4().hex[:8], "a@example.com"))
            assert r.status_code == 404
        stopped = await c.post("/api/v1/portal/session", json=guess(order.number, "owner@example.com"))
        assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    async with client_from(settings, "10.20.0.4", portal_failures_per_client=3) as c:
        assert (
            await c.post("/api/v1/portal/session", json=guess(order.number, "owner@example.com"))
        ).status_code == 200


async def test_the_portal_page_is_limited_too(settings, shop):
    order = await shop.order(email_addr="owner@example.com")
    async with client_from(settings, "10.20.0.5", portal_failures_per_order=1) as c:
        page = await c.get("/portal")
        csrf = c.cookies.get("portal_csrf")
        form = {"order_number": order.number, "email": "wrong@example.com", "csrf": csrf}
        assert (await c.post("/portal", data=form)).status_code == 404
        limited = await c.post("/portal", data={**form, "email": "owner@example.com"})
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        assert page.status_code == 200


async def test_security_headers_on_pages_and_api(client):
    for path in ("/portal", "/api/v1/portal/order", "/healthz", "/static/htmx.min.js"):
        r = await client.get(path)
        csp = r.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert r.headers["X-Frame-Options"] == "DENY", path
        assert r.headers["Referrer-Policy"] == "same-origin", path
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
