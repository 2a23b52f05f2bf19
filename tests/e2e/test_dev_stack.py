"""End to end: `reverso dev` as a subprocess, driven over HTTP the way a shop, a shopper, a carrier and the
warehouse would, checked in the payment peer (stripe SDK), the mail sink (.eml) and the label's barcode."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import psycopg
import pypdfium2 as pdfium
import pytest
import stripe
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client

from tests.support import services
from tests.support.scanning import page_codes
from tests.support.services import DevStack

T = TypeVar("T")
LIFECYCLE = ["awaiting_shipment", "in_transit", "received", "completed"]


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with services.scratch_dir("reverso-e2e-") as tmp, services.dev_stack(tmp) as running:
        yield running


@contextmanager
def stripe_at(stack: DevStack) -> Iterator[None]:
    """Point the stripe SDK's globals at the stack's localstripe, and put back what other tests set."""
    saved = stripe.api_key, stripe.api_base
    stripe.api_key, stripe.api_base = "sk_test_x", stack.stripe_url
    try:
        yield
    finally:
        stripe.api_key, stripe.api_base = saved


def client(stack: DevStack) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, timeout=60, trust_env=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reverso(stack: DevStack, *args: str, env: dict[str, str] | None = None) -> str:
    """Run a `reverso` command beside the stack; its stdout."""
    done = subprocess.run([sys.executable, "-m", "cli", *args], env=env or stack.env, cwd=services.ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, f"reverso {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def beside(stack: DevStack, *args: str) -> str:
    """A `reverso` command as a user runs it in a second terminal: only the state directory set."""
    env = {k: v for k, v in stack.env.items() if not k.startswith("REVERSO_")}
    return reverso(stack, *args, "--state-dir", str(stack.state_dir), env=env)


def staff_token(stack: DevStack, role: str) -> str:
    return reverso(stack, "token", "create", "--role", role, "--name", f"e2e-{role}").strip().splitlines()[-1]


def webhook_secret(stack: DevStack) -> str:
    return (
        stack.env.get("REVERSO_CARRIER_WEBHOOK_SECRET")
        or (stack.state_dir / "carrier_webhook_secret").read_text().strip()
    )


def scan(c: httpx.Client, stack: DevStack, tracking: str, event: str) -> httpx.Response:
    """A carrier scan, signed as Standard Webhooks v1."""
    body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
    msg_id = "msg_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(webhook_secret(stack)).sign(msg_id, now, body),
               "content-type": "application/json"}  # fmt: skip
    return c.post("/api/v1/webhooks/carriers/local", content=body, headers=headers)


def eventually(what: str, probe: Callable[[], T | None], stack: DevStack, timeout: float = 60.0,
               detail: Callable[[], str] = str) -> T:  # fmt: skip
    """Poll `probe` until it returns something truthy; on timeout fail with `detail()` and the logs' tails."""
    deadline = time.monotonic() + timeout
    while True:
        if result := probe():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{detail()}\n{log_tails(stack)}")
        time.sleep(0.3)


def log_tails(stack: DevStack, lines: int = 25) -> str:
    parts = []
    for log in [stack.log, *sorted((stack.state_dir / "logs").glob("*.log"))]:
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
    return "\n".join(parts)


def wait_status(c: httpx.Client, stack: DevStack, rid: str, headers: dict[str, str], status: str) -> dict[str, Any]:
    last: dict[str, Any] = {}

    def probe() -> dict[str, Any] | None:
        nonlocal last
        r = c.get(f"/api/v1/returns/{rid}", headers=headers)
        assert r.status_code == 200, r.text
        last = r.json()
        return last if last["status"] == status else None

    return eventually(f"return {rid} reaching {status}", probe, stack, detail=lambda: f"last seen: {json.dumps(last)}")


def barcodes(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [b.text for page in doc for b in page_codes(page)]
    finally:
        doc.close()


def mails(stack: DevStack, rid: str, kind: str) -> list[Message]:
    found = [email.message_from_bytes(p.read_bytes()) for p in sorted(stack.mail_dir.glob("*.eml"))]
    return [m for m in found if m["X-Reverso-Return"] == rid and m["X-Reverso-Kind"] == kind]


def pdf_attachments(msg: Message) -> list[bytes]:
    return [part.get_payload(decode=True) for part in msg.walk() if part.get_content_type() == "application/pdf"]


class Shop:
    """The shop's backend and a shopper, over HTTP."""

    def __init__(self, stack: DevStack, c: httpx.Client) -> None:
        self.stack, self.c = stack, c
        self.integration = staff_token(stack, "integration")

    def paid_order(self, quantity: int = 2, unit_price: int = 2500) -> tuple[str, str, Any]:
        """Inventory, a succeeded PaymentIntent and an order paid with it: (number, e-mail, intent)."""
        r = self.c.put("/api/v1/inventory/TEE-M", headers=bearer(self.integration),
                       json={"title": "Tee", "unit_price": unit_price, "currency": "EUR", "available": 5})  # fmt: skip
        assert r.status_code == 200, r.text
        with stripe_at(self.stack):
            pi = stripe.PaymentIntent.create(amount=5000, currency="eur", payment_method="pm_card_visa", confirm=True)
        now = datetime.now(UTC)
        number, addr = "E" + uuid.uuid4().hex[:8].upper(), f"e2e-{uuid.uuid4().hex[:6]}@example.com"
        r = self.c.post("/api/v1/orders", headers=bearer(self.integration), json={
            "number": number, "email": addr, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Lisboa", "postal_code": "1200-195",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": quantity, "unit_price": unit_price,
                       "final_sale": False}],
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return number, addr, pi

    def session(self, number: str, addr: str) -> str:
        r = self.c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def refund_return(self, number: str, shopper: str) -> dict[str, Any]:
        r = self.c.post("/api/v1/returns", headers=bearer(shopper), json={"order_number": number, "lines": [
            {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}]})  # fmt: skip
        assert r.status_code == 201, f"{r.status_code} {r.text}\n{log_tails(self.stack)}"
        created = r.json()
        assert created["status"] == "awaiting_shipment", created
        assert created["decision"]["approved"] is True, created
        return created


def inbound_tracking(view: dict[str, Any]) -> str:
    inbound = [s for s in view["shipments"] if s["direction"] == "inbound"]
    assert len(inbound) == 1, view["shipments"]
    assert inbound[0]["tracking_number"], inbound
    return inbound[0]["tracking_number"]


def temporal_ids(stack: DevStack, query: str) -> list[str]:
    async def ids() -> list[str]:
        client = await Client.connect(f"127.0.0.1:{stack.env['REVERSO_TEMPORAL_PORT']}")
        return [w.id async for w in client.list_workflows(query)]

    return asyncio.run(ids())


# --- tests ----------------------------------------------------------------------------------------


def test_return_from_order_ingest_to_refund(stack: DevStack) -> None:
    with client(stack) as c:
        shop = Shop(stack, c)
        warehouse = staff_token(stack, "warehouse")
        number, addr, pi = shop.paid_order()
        shopper = shop.session(number, addr)
        rid = shop.refund_return(number, shopper)["id"]
        view = wait_status(c, stack, rid, bearer(shopper), "awaiting_shipment")
        tracking = inbound_tracking(view)

        label = c.get(f"/api/v1/returns/{rid}/label.pdf", headers=bearer(shopper))
        assert label.status_code == 200, label.text
        assert label.headers["content-type"].startswith("application/pdf")
        assert sorted(barcodes(label.content)) == sorted([tracking, rid])  # Code128 and the QR

        sent = eventually("the label e-mail in the sink", lambda: mails(stack, rid, "label"), stack, timeout=30)
        assert len(sent) == 1, [m["Message-ID"] for m in sent]
        assert sent[0]["To"] and addr in sent[0]["To"], sent[0]["To"]
        attached = pdf_attachments(sent[0])
        assert len(attached) == 1, [p.get_content_type() for p in sent[0].walk()]
        assert sorted(barcodes(attached[0])) == sorted([tracking, rid])

        # The first scan as a developer sends it, from a second terminal, to a stack on ports of its own.
        assert beside(stack, "carrier", "scan", tracking, "--event", "in_transit").startswith("202")
        r = scan(c, stack, tracking, "delivered")
        assert r.status_code == 202, f"delivered: {r.status_code} {r.text}"
        assert r.json()["matched"] is True, r.json()
        wait_status(c, stack, rid, bearer(shopper), "received")

        r = c.post(f"/api/v1/returns/{rid}/inspection", headers=bearer(warehouse), json={"lines": [
            {"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True, "note": "as new"}]})  # fmt: skip
        assert r.status_code in (200, 202), r.text
        done = wait_status(c, stack, rid, bearer(shopper), "completed")

        amounts = done["amounts"]
        assert amounts["currency"] == "EUR"
        assert amounts["refund_total"] == 2500 - amounts["fees_total"] > 0, amounts
        with stripe_at(stack):
            refunds = stripe.Refund.list(payment_intent=pi.id).data
        assert [(x.amount, x.status) for x in refunds] == [(amounts["refund_total"], "succeeded")]

        eventually("the completed e-mail in the sink", lambda: mails(stack, rid, "completed"), stack, timeout=30)
        time.sleep(1)  # a duplicate would be sent right after the first
        assert len(mails(stack, rid, "completed")) == 1

        timeline = c.get(f"/api/v1/returns/{rid}", headers=bearer(shopper)).json()["timeline"]
        statuses = [t["status"] for t in timeline]
        assert [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]] == LIFECYCLE, statuses
        stamps = [datetime.fromisoformat(t["at"]) for t in timeline]
        assert stamps == sorted(stamps), timeline
        # What the Temporal UI lists: the return, found by its status and order number.
        query = f'ReturnStatus="completed" AND OrderNumber="{number}"'
        found = eventually("the return in Temporal's visibility", lambda: temporal_ids(stack, query), stack, timeout=30)
        assert found == [rid]


def test_a_refund_stripe_refuses_leaves_the_return_open_for_finance(stack: DevStack) -> None:
    # The shop refunded most of the payment by hand in the provider's dashboard: the peer, like Stripe, refuses a
    # refund above what is left. The return waits for a person, and finance pays it as store credit.
    with client(stack) as c:
        shop = Shop(stack, c)
        warehouse, finance = staff_token(stack, "warehouse"), staff_token(stack, "finance")
        number, addr, pi = shop.paid_order()
        with stripe_at(stack):
            stripe.Refund.create(payment_intent=pi.id, amount=4000)
        shopper = shop.session(number, addr)
        rid = shop.refund_return(number, shopper)["id"]
        tracking = inbound_tracking(wait_status(c, stack, rid, bearer(shopper), "awaiting_shipment"))
        for event in ("in_transit", "delivered"):
            assert scan(c, stack, tracking, event).status_code == 202
        wait_status(c, stack, rid, bearer(shopper), "received")
        r = c.post(f"/api/v1/returns/{rid}/inspection", headers=bearer(warehouse), json={"lines": [
            {"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True, "note": ""}]})  # fmt: skip
        assert r.status_code == 200, r.text

        def queued() -> dict[str, Any] | None:
            got = c.get(f"/api/v1/returns/{rid}", headers=bearer(finance)).json()
            return got if got["attention_code"] == "refund_refused" else None

        view = eventually("the refused refund in the Exceptions queue", queued, stack)
        assert view["status"] == "received" and view["attention"], view
        assert view["resolutions"] == ["retry", "store_credit", "refund_outside"], view
        assert "amount_too_large" in view["attention_reason"], view["attention_reason"]
        listed = c.get("/api/v1/returns?attention=true&limit=200", headers=bearer(finance)).json()["items"]
        assert rid in [x["id"] for x in listed]

        async def status() -> str:
            found = await Client.connect(f"127.0.0.1:{stack.env['REVERSO_TEMPORAL_PORT']}")
            return (await found.get_workflow_handle(rid).describe()).status.name

        assert asyncio.run(status()) == "RUNNING"  # waiting for a person, not failed
        with stripe_at(stack):
            assert [x.amount for x in stripe.Refund.list(payment_intent=pi.id).data] == [4000]  # nothing paid twice

        r = c.post(f"/api/v1/returns/{rid}/resolve", headers=bearer(finance),
                   json={"action": "store_credit", "note": "card refunded by hand; rest as credit"})  # fmt: skip
        assert r.status_code == 200, r.text
        done = wait_status(c, stack, rid, bearer(shopper), "completed")
        assert done["amounts"]["store_credit_total"] == 2500 - done["amounts"]["fees_total"], done["amounts"]
        assert not done["attention"] and done["attention_code"] == "" and done["resolutions"] == []


def test_reverso_demo_prints_orders_with_real_payment_intents(stack: DevStack) -> None:
    out = reverso(stack, "demo")
    printed = [line.split()[:2] for line in out.splitlines() if line.strip()]
    assert len(printed) == 4, out
    orders = {}
    with client(stack) as c:
        for number, addr in printed:
            assert "@" in addr, out
            r = c.post("/api/v1/portal/session", json={"order_number": number, "email": addr})
            assert r.status_code == 200, f"{number} {addr}: {r.status_code} {r.text}"
            r = c.get("/api/v1/portal/order", headers=bearer(r.json()["token"]))
            assert r.status_code == 200, r.text
            orders[number] = r.json()

    now = datetime.now(UTC)
    age = {n: (now - datetime.fromisoformat(o["delivered_at"])).days for n, o in orders.items()}
    old = [o for n, o in orders.items() if age[n] >= 40]
    assert len(old) == 1, age
    for line in old[0]["lines"]:
        assert line["eligible"] is False and line["returnable_quantity"] == 0, line
        assert "window" in (line["reason"] or ""), line
    final = [(o, x) for o in orders.values() for x in o["lines"] if x["final_sale"]]
    assert len(final) == 1, orders
    assert final[0][1]["eligible"] is False and "final sale" in (final[0][1]["reason"] or ""), final
    assert any(x["eligible"] for x in final[0][0]["lines"] if not x["final_sale"]), final[0][0]
    assert any(o["lines"][0]["eligible"] and 5 <= age[n] <= 10 for n, o in orders.items()), orders

    url = (stack.state_dir / "database_url").read_text().strip()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT number, data->'payment' FROM orders WHERE number = ANY(%s)", [list(orders)]
        ).fetchall()
    payments = dict(rows)
    assert set(payments) == set(orders)
    with stripe_at(stack):
        for number, payment in payments.items():
            assert payment["provider"] == "stripe", payment
            assert payment["reference"].startswith("pi_"), payment
            pi = stripe.PaymentIntent.retrieve(payment["reference"])
            assert pi.status == "succeeded", (number, pi.status)
            total = sum(x["quantity"] * x["unit_price"] for x in orders[number]["lines"])
            assert (pi.amount, pi.currency) == (total, "eur"), (number, pi.amount, total)


def test_restart_keeps_data_and_workflows_in_flight_go_on() -> None:
    with services.scratch_dir("reverso-e2e-restart-") as tmp:
        with services.dev_stack(tmp) as first, client(first) as c:
            shop = Shop(first, c)
            number, addr, pi = shop.paid_order()
            shopper = shop.session(number, addr)
            rid = shop.refund_return(number, shopper)["id"]
            tracking = inbound_tracking(wait_status(c, first, rid, bearer(shopper), "awaiting_shipment"))
        assert first.process.returncode == 0

        with services.dev_stack(tmp) as second, client(second) as c:
            assert second.state_dir == first.state_dir
            r = c.get(f"/api/v1/returns/{rid}", headers=bearer(shopper))
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "awaiting_shipment", r.json()
            assert inbound_tracking(r.json()) == tracking

            r = scan(c, second, tracking, "delivered")
            assert r.status_code == 202 and r.json()["matched"] is True, f"{r.status_code} {r.text}"
            wait_status(c, second, rid, bearer(shopper), "received")

            r = c.put("/api/v1/inventory/TEE-M", headers=bearer(shop.integration),
                      json={"title": "Tee", "unit_price": 2500, "currency": "EUR", "available": 7})  # fmt: skip
            assert r.status_code == 200, r.text
            with stripe_at(second):
                again = stripe.PaymentIntent.retrieve(pi.id)
            assert (again.id, again.status, again.amount) == (pi.id, "succeeded", 5000)


def _mentions(proc: psutil.Process, text: str) -> bool:
    try:
        return any(text in arg for arg in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def test_stop_is_quick() -> None:
    with services.scratch_dir("reverso-e2e-stop-") as tmp, services.dev_stack(tmp) as stack:
        state = str(Path(stack.state_dir).resolve())
        children = psutil.Process(stack.process.pid).children(recursive=True)
        started = [p for p in psutil.process_iter() if _mentions(p, state)]
        assert len(children) >= 5 and started, (children, started)  # temporal, stripe, smtp, worker, api; postgres

        t0 = time.monotonic()
        os.kill(stack.process.pid, signal.SIGTERM)
        try:
            stack.process.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"reverso dev still running 15 s after SIGTERM\n{log_tails(stack)}")
        _, alive = psutil.wait_procs(children + started, timeout=max(0.1, 15 - (time.monotonic() - t0)))
        left = [p for p in psutil.process_iter() if _mentions(p, state)]
        took = time.monotonic() - t0
        assert not alive and not left, f"still running {took:.1f} s after SIGTERM: {alive + left}\n{log_tails(stack)}"
        assert took < 15
        assert stack.process.returncode == 0, log_tails(stack)
