"""What the API tests do over and over: tokens, staff accounts, filing returns, polling, signed carrier webhooks."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from api import staff_accounts
from api.auth import create_staff_token
from db.engine import get_sessionmaker
from settings import Settings

WEBHOOK_PATH = "/api/v1/webhooks/carriers/local"
STAFF_PASSWORD = "parcel scanner on the dock"


class Tokens:
    """Bearer headers: staff tokens by role, and portal sessions through the API itself."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.sessions = get_sessionmaker(settings.resolved_database_url())
        self.http = http

    async def staff(self, role: str, name: str | None = None) -> dict[str, str]:
        async with self.sessions.begin() as s:
            token = await create_staff_token(s, role, name or f"{role}-{uuid.uuid4().hex[:6]}")
        return {"Authorization": f"Bearer {token}"}

    async def account(self, *roles: str, name: str | None = None) -> str:
        """A staff account with these roles whose password is STAFF_PASSWORD, set through its invitation link as a
        person would; its e-mail address."""
        name = name or f"{'-'.join(roles)}-{uuid.uuid4().hex[:6]}"
        async with self.sessions.begin() as s:
            account, link = await staff_accounts.invite(s, f"{uuid.uuid4().hex[:10]}@shop.example", roles, name)
        async with self.sessions.begin() as s:
            assert await staff_accounts.set_password(s, link, STAFF_PASSWORD) is not None
        return account.email

    async def shopper(self, order_number: str, email: str = "shopper@example.com") -> dict[str, str]:
        r = await self.http.post("/api/v1/portal/session", json={"order_number": order_number, "email": email})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


async def portal_order_page(client: httpx.AsyncClient, order) -> httpx.Response:
    """Sign in to the portal's pages as the order's shopper (a fresh cookie jar) and open the order page."""
    client.cookies.clear()
    await client.get("/portal")
    signed_in = await client.post("/portal", data={"order_number": order.number, "email": order.email,
                                                   "csrf": client.cookies.get("portal_csrf")})  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    return await client.get("/portal/order")


async def console_sign_in(
    client: httpx.AsyncClient, tokens: Tokens, *roles: str, name: str | None = None
) -> httpx.Response:
    """Sign in to the staff consoles as a new person with these roles (and `name`, shown in timelines), through the
    sign-in form with e-mail and password: the client's cookie then holds a console session, as a browser's would.
    The consoles take accounts only; API tokens are for the JSON API."""
    address = await tokens.account(*roles, name=name)
    await client.get("/staff/login")
    r = await client.post("/staff/login", data={"email": address, "password": STAFF_PASSWORD,
                                                "csrf": client.cookies.get("staff_csrf")})  # fmt: skip
    assert r.status_code == 303, r.text
    return r


def line(quantity: int = 1, resolution: str = "refund", reason: str = "too_small", line_id: str = "L1") -> dict:
    return {"line_id": line_id, "quantity": quantity, "reason": reason, "resolution": resolution}


def inbound_tracking(ret: dict) -> str:
    return next(s["tracking_number"] for s in ret["shipments"] if s["direction"] == "inbound")


class Returns:
    """Shortcuts a shopper, the staff and the carrier take through the API."""

    def __init__(self, http: httpx.AsyncClient, tokens: Tokens, settings: Settings) -> None:
        self.http = http
        self.tokens = tokens
        self.settings = settings

    async def create(self, order, *lines: dict, expect: int = 201) -> tuple[dict, dict[str, str]]:
        """File a return for `order` as its shopper; (the answer, the shopper's headers)."""
        headers = await self.tokens.shopper(order.number, order.email)
        body = {"order_number": order.number, "lines": list(lines) or [line()]}
        r = await self.http.post("/api/v1/returns", json=body, headers=headers)
        assert r.status_code == expect, r.text
        return r.json(), headers

    async def get(self, rid: str, headers: dict[str, str]) -> dict:
        r = await self.http.get(f"/api/v1/returns/{rid}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_status(self, rid: str, headers: dict[str, str], status: str) -> dict:
        """Poll the read model (through the API) until the return shows `status`."""
        got: dict | None = None
        for _ in range(300):
            got = await self.get(rid, headers)
            if got["status"] == status:
                return got
            await asyncio.sleep(0.05)
        raise AssertionError(f"{rid} never reached {status}; last {got and got['status']}")

    def sign(self, body: bytes, msg_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
        msg_id = msg_id or "msg_" + uuid.uuid4().hex
        at = at or datetime.now(UTC)
        signature = Webhook(self.settings.webhook_secret()).sign(msg_id, at, body.decode())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
        }

    async def scan(self, tracking: str, event: str, msg_id: str | None = None) -> httpx.Response:
        body = scan_body(tracking, event)
        return await self.http.post(WEBHOOK_PATH, content=body, headers=self.sign(body, msg_id))

    async def deliver(self, ret: dict, headers: dict[str, str]) -> dict:
        """The carrier reports the inbound parcel delivered; the return is then received."""
        r = await self.scan(inbound_tracking(ret), "delivered")
        assert r.status_code == 202, r.text
        return await self.wait_status(ret["id"], headers, "received")


def scan_body(tracking: str, event: str) -> bytes:
    return json.dumps(
        {"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()}
    ).encode()


def order_payload(
    number: str | None = None,
    email: str = "shopper@example.com",
    delivered_at: datetime | None = None,
    lines: list[dict] | None = None,
    currency: str = "EUR",
    reference: str = "pi_not_used",
) -> dict:
    """A POST /api/v1/orders body, as the shop's backend sends it."""
    delivered = delivered_at or datetime.now(UTC)
    tee = {"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 1, "unit_price": 2500, "final_sale": False}
    return {
        "number": number or "A" + uuid.uuid4().hex[:8].upper(),
        "email": email,
        "currency": currency,
        "placed_at": (delivered - timedelta(days=2)).isoformat(),
        "delivered_at": delivered.isoformat(),
        "payment": {"provider": "stripe", "reference": reference},
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
        "lines": lines or [tee],
    }
