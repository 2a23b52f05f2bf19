"""When a part is down the rest keeps its word: with Temporal down the API still reads from PostgreSQL and
answers writes with a quick 503 + Retry-After; with PostgreSQL down, workflows wait and then go on, and
/healthz names the part that is down. On a real stack (devstack.Stack in this process)."""

from __future__ import annotations

import asyncio
import email
import json
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.models import CarrierEvent
from tests.faults.driver import Journal, Peer
from tests.support import services
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.timeout(300)
QUICK = 8.0  # seconds: a write must be refused within this while the engine is down, not hang


@pytest.fixture(scope="module")
def running() -> Iterator[services.SupervisedStack]:
    with services.scratch_dir("reverso-degrade-") as tmp, services.supervised_stack(tmp) as stack:
        yield stack


@pytest.fixture(scope="module")
def staff(running: services.SupervisedStack) -> dict[str, dict[str, str]]:
    from tests.faults.test_nothing_lost import staff_tokens

    return {role: {"Authorization": f"Bearer {token}"} for role, token in staff_tokens(running).items()}


def http(running: services.SupervisedStack) -> httpx.Client:
    return httpx.Client(base_url=running.api_url, timeout=60, trust_env=False)


def awaiting_return(running: services.SupervisedStack, staff: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A paid order and a refund return waiting for its parcel; the shopper's headers under "shopper"."""
    peer = Peer(running.api_url, Journal(), deadline=60)
    r = peer.call("PUT", "/api/v1/inventory/TEE-M", headers=staff["integration"],
                  json={"title": "Tee", "unit_price": 2500, "currency": "EUR", "available": 50})  # fmt: skip
    assert r.status_code == 200, r.text
    pi = stripe.StripeClient("sk_test_x", base_addresses={"api": running.stripe_url}).v1.payment_intents.create(
        {"amount": 2500, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    now, number = datetime.now(UTC), "D" + uuid.uuid4().hex[:9].upper()
    r = peer.call("POST", "/api/v1/orders", headers=staff["integration"], json={
        "number": number, "email": f"{number.lower()}@example.com", "currency": "EUR",
        "placed_at": (now - timedelta(days=3)).isoformat(), "delivered_at": (now - timedelta(days=1)).isoformat(),
        "payment": {"provider": "stripe", "reference": pi.id},
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
        "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 2, "unit_price": 2500, "final_sale": False}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = peer.call(
        "POST", "/api/v1/portal/session", json={"order_number": number, "email": f"{number.lower()}@example.com"}
    )
    shopper = {"Authorization": f"Bearer {r.json()['token']}"}
    r = peer.call("POST", "/api/v1/returns", headers=shopper, json={"order_number": number, "lines": [
        {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}]})  # fmt: skip
    assert r.status_code == 201, r.text
    return {**r.json(), "shopper": shopper, "number": number, "payment_intent": pi.id}


def timed(c: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    r = c.request(method, path, **kwargs)
    return r, time.monotonic() - t0


def test_with_temporal_down_reads_answer_and_writes_are_refused_quickly(running, staff) -> None:
    stack: Any = running.stack
    ret = awaiting_return(running, staff)
    rid, shopper = ret["id"], ret["shopper"]
    fresh = awaiting_return(running, staff)  # a second order, to try filing a new return while the engine is down
    stack.kill_part("temporal", signal.SIGTERM)
    try:
        with http(running) as c:
            r, took = timed(c, "GET", f"/api/v1/returns/{rid}", headers=shopper)
            assert r.status_code == 200 and r.json()["status"] == "awaiting_shipment", r.text
            r, took = timed(c, "GET", "/api/v1/returns", headers=staff["admin"], params={"q": ret["number"]})
            assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [rid], r.text
            r, took = timed(c, "GET", "/healthz")
            assert (r.status_code, r.json()) == (503, {"postgres": "ok", "temporal": "down"}), r.text
            assert took < QUICK, f"/healthz took {took:.1f} s"

            writes = {
                "cancel": ("POST", f"/api/v1/returns/{rid}/cancel", {"headers": shopper}),
                "new return": ("POST", "/api/v1/returns", {"headers": fresh["shopper"], "json": {
                    "order_number": fresh["number"],
                    "lines": [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}]}}),
                "carrier scan": ("POST", "/api/v1/webhooks/carriers/local", signed_scan(running, ret)),
            }  # fmt: skip
            for what, (method, path, kwargs) in writes.items():
                r, took = timed(c, method, path, **kwargs)
                print(f"{what} while Temporal is down: {r.status_code} in {took:.1f} s", flush=True)
                assert r.status_code == 503, f"{what}: {r.status_code} {r.text}"
                assert int(r.headers["retry-after"]) > 0, r.headers
                assert took < QUICK, f"{what}: the 503 took {took:.1f} s"
            # nothing changed behind the refusals
            assert c.get(f"/api/v1/returns/{rid}", headers=shopper).json()["status"] == "awaiting_shipment"
    finally:
        stack.start_part("temporal")
    with http(running) as c:
        r = Peer(running.api_url, Journal(), deadline=60).call("GET", "/healthz", ok=lambda r: r.status_code == 200)
        assert r.json() == {"postgres": "ok", "temporal": "ok"}
        r = c.post(f"/api/v1/returns/{rid}/cancel", headers=shopper)
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text


def signed_scan(running: services.SupervisedStack, ret: dict[str, Any], event: str = "in_transit") -> dict[str, Any]:
    from standardwebhooks.webhooks import Webhook

    tracking = next(s["tracking_number"] for s in ret["shipments"] if s["direction"] == "inbound")
    body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
    msg_id, now = "msg_" + uuid.uuid4().hex, datetime.now(UTC)
    secret = (running.state_dir / "carrier_webhook_secret").read_text().strip()
    return {"content": body, "headers": {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                                         "webhook-signature": Webhook(secret).sign(msg_id, now, body),
                                         "content-type": "application/json"}}  # fmt: skip


def mails(running: services.SupervisedStack, rid: str, kind: str) -> int:
    found = [email.message_from_bytes(p.read_bytes()) for p in running.mail_dir.glob("*.eml")]
    return sum(m["X-Reverso-Return"] == rid and m["X-Reverso-Kind"] == kind for m in found)


def test_with_postgres_down_workflows_wait_and_go_on(running, staff) -> None:
    stack: Any = running.stack
    ret = awaiting_return(running, staff)
    rid, shopper = ret["id"], ret["shopper"]
    tracking = next(s["tracking_number"] for s in ret["shipments"] if s["direction"] == "inbound")

    async def engine() -> Client:
        return await Client.connect(running.temporal_address, data_converter=pydantic_data_converter)

    stack.pause_postgres()
    try:
        with http(running) as c:
            r, took = timed(c, "GET", "/healthz")
            assert (r.status_code, r.json()) == (503, {"postgres": "down", "temporal": "ok"}), r.text
            assert took < QUICK, f"/healthz took {took:.1f} s"
            # what needs the database says so and when to come back: a 503, not a 500
            r, took = timed(c, "GET", f"/api/v1/returns/{rid}", headers=shopper)
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0, f"{r.status_code} {r.text}"
            assert "database" in r.json()["detail"] and took < QUICK, (r.json(), took)

        async def deliver_while_down() -> str:
            # The carrier's webhook needs the database to find the return; the signal is what it would send.
            client = await engine()
            handle = client.get_workflow_handle(rid)
            await handle.signal(
                ReturnWorkflow.carrier_event,
                CarrierEvent(
                    event_id="msg_pg_down", tracking_number=tracking, event="delivered", occurred_at=datetime.now(UTC)
                ),
            )
            for _ in range(50):
                state = await handle.query(ReturnWorkflow.get_state)
                if state.status == "received":
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(4)  # the worker meanwhile fails to write the read model and retries with backoff
            return (await handle.query(ReturnWorkflow.get_state)).status

        assert asyncio.run(deliver_while_down()) == "received"
        assert mails(running, rid, "received") == 0
    finally:
        stack.resume_postgres()

    peer = Peer(running.api_url, Journal(), deadline=90)
    r = peer.call("GET", "/healthz", ok=lambda r: r.status_code == 200)
    assert r.json() == {"postgres": "ok", "temporal": "ok"}
    seen = peer.call("GET", f"/api/v1/returns/{rid}", headers=shopper, ok=lambda r: r.json()["status"] == "received")
    assert seen.json()["status"] == "received", seen.text
    deadline = time.monotonic() + 60
    while mails(running, rid, "received") == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1)
    assert mails(running, rid, "received") == 1


@pytest.fixture(autouse=True)
def _orders_on_workflow_time() -> None:
    """Overrides tests/api/conftest.py's: this module runs its own stack, not the time-skipping server."""
