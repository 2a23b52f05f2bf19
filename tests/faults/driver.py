"""Shoppers, a shop, a carrier and staff, over HTTP, who keep trying when the stack stumbles.

Each return follows one path to its end. A call that fails (connection refused, 5xx, timeout) is
retried with backoff, the way a browser user or the shop's backend would; every retry is counted so
the fault test can print what the outage looked like from outside.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import stripe
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

PATHS = ("refund", "store_credit", "exchange", "finance_review", "cancel")
END_STATUS = {"refund": "completed", "store_credit": "completed", "exchange": "completed",
              "finance_review": "completed", "cancel": "cancelled"}  # fmt: skip
MAILS = {
    "refund": {"label", "received", "completed"},
    "store_credit": {"label", "received", "completed"},
    "exchange": {"label", "received", "completed"},
    "finance_review": {"submitted", "label", "received", "completed"},
    "cancel": {"label", "cancelled"},
}
PRICE = {"finance_review": 60000}  # above the auto-approve limit and the refund-review threshold
TEE_PRICE = 2500
REDEEM = 1000  # each store credit is partly spent at the shop's checkout, once, however often it is retried


class Journal:
    """What happened, with seconds since the start: printed as it happens and kept for the failure message."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.lines: list[str] = []
        self.retries: Counter[str] = Counter()
        self.progress: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.abort = threading.Event()  # set when the test ends early: every shopper stops at its next call

    def note(self, text: str) -> None:
        line = f"[{time.monotonic() - self.t0:6.1f}s] {text}"
        with self.lock:
            self.lines.append(line)
        print(line, flush=True)

    def retry(self, what: str) -> None:
        with self.lock:
            self.retries[what] += 1

    def step(self, name: str) -> None:
        with self.lock:
            self.progress[name] += 1

    def summary(self) -> str:
        retries = ", ".join(f"{k}: {v}" for k, v in sorted(self.retries.items())) or "none"
        return "\n".join([*self.lines, f"retries seen: {retries}", f"progress: {dict(self.progress)}"])


class Gave(Exception):
    """A call kept failing past its deadline."""


@dataclass
class Peer:
    """One HTTP client that retries what an outage makes fail."""

    api_url: str
    journal: Journal
    deadline: float = 240.0
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.api_url, timeout=20, trust_env=False)

    def call(self, method: str, path: str, ok: Callable[[httpx.Response], bool] | None = None,
             **kwargs: Any) -> httpx.Response:  # fmt: skip
        """The first answer that is not a 5xx or a transport error (or that `ok` accepts)."""
        give_up, pause, last = time.monotonic() + self.deadline, 0.5, ""
        label = f"{method} {path.split('/')[3] if path.count('/') >= 3 else path}"
        while True:
            if self.journal.abort.is_set():
                raise Gave("the test stopped")
            try:
                r = self.http.request(method, path, **kwargs)
                if r.status_code < 500 and (ok is None or ok(r)):
                    return r
                last = f"{r.status_code} {r.text[:200]}"
                self.journal.retry(f"{label} -> {r.status_code}")
            except httpx.HTTPError as e:
                last = repr(e)
                self.journal.retry(f"{label} -> {type(e).__name__}")
            if time.monotonic() > give_up:
                raise Gave(f"{method} {path}: still failing after {self.deadline:.0f} s: {last}")
            time.sleep(pause)
            pause = min(pause * 1.5, 4.0)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Case:
    path: str
    number: str = ""
    email: str = ""
    payment_intent: str = ""
    rid: str = ""
    store_credit_code: str = ""
    error: str = ""


class World:
    """The shop's backend, the carrier and the staff: tokens and secrets shared by every shopper."""

    def __init__(self, api_url: str, stripe_url: str, secret: str, tokens: dict[str, str], journal: Journal,
                 temporal_address: str):  # fmt: skip
        self.api_url, self.stripe_url, self.secret, self.tokens = api_url, stripe_url, secret, tokens
        self.journal, self.temporal_address = journal, temporal_address

    def truth(self, rid: str, deadline: float = 240.0) -> tuple[str, list[int | None]]:
        """The return's status and accepted quantities as its workflow holds them (its result once it has ended),
        asked again while the engine restarts."""

        async def ask() -> tuple[str, list[int | None]]:
            client = await Client.connect(self.temporal_address, data_converter=pydantic_data_converter)
            handle = client.get_workflow_handle(rid)
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return str(await handle.result()), []
            state = await handle.query("get_state")
            return state["status"], [line["accepted_quantity"] for line in state["lines"]]

        give_up = time.monotonic() + deadline
        while True:
            try:
                return asyncio.run(ask())
            except (RuntimeError, RPCError) as e:
                if time.monotonic() > give_up:
                    raise Gave(f"{rid}: the workflow engine did not answer: {e}") from e
                self.journal.retry(f"temporal -> {type(e).__name__}")
                time.sleep(1)

    def peer(self) -> Peer:
        return Peer(self.api_url, self.journal)

    def staff(self, role: str) -> dict[str, str]:
        return bearer(self.tokens[role])

    def stock(self) -> None:
        peer = self.peer()
        for sku, title in (("TEE-M", "Tee, M"), ("TEE-L", "Tee, L")):
            r = peer.call("PUT", f"/api/v1/inventory/{sku}", headers=self.staff("integration"),
                          json={"title": title, "unit_price": TEE_PRICE, "currency": "EUR", "available": 500})  # fmt: skip
            assert r.status_code == 200, r.text

    def order(self, case: Case) -> None:
        """A real PaymentIntent in the payment peer and the order paid with it."""
        price = PRICE.get(case.path, TEE_PRICE)
        client = stripe.StripeClient("sk_test_faults", base_addresses={"api": self.stripe_url})
        pi = client.v1.payment_intents.create(
            {"amount": price, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
        )
        now = datetime.now(UTC)
        case.number, case.email, case.payment_intent = "F" + uuid.uuid4().hex[:9].upper(), "", pi.id
        case.email = f"faults-{case.number.lower()}@example.com"
        r = self.peer().call("POST", "/api/v1/orders", headers=self.staff("integration"), json={
            "number": case.number, "email": case.email, "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(), "delivered_at": (now - timedelta(days=5)).isoformat(),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Rita Faults", "line1": "Rua 1", "city": "Lisboa", "postal_code": "1200-195",
                                 "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 1, "unit_price": price,
                       "final_sale": False}],
        })  # fmt: skip
        assert r.status_code == 201, r.text

    def scan(self, peer: Peer, tracking: str, event: str) -> None:
        body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
        msg_id = "msg_" + uuid.uuid4().hex

        def signed() -> dict[str, str]:  # re-signed on each try: the timestamp must stay fresh
            now = datetime.now(UTC)
            return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": Webhook(self.secret).sign(msg_id, now, body),
                    "content-type": "application/json"}  # fmt: skip

        give_up = time.monotonic() + peer.deadline
        while True:
            r = peer.call("POST", "/api/v1/webhooks/carriers/local", content=body, headers=signed())
            if r.status_code == 202 and r.json()["matched"]:
                return
            assert time.monotonic() < give_up, f"scan {tracking} {event}: {r.status_code} {r.text}"
            time.sleep(1)


class Shopper:
    """One shopper taking one return down its path, then the staff doing their part."""

    def __init__(self, world: World, case: Case) -> None:
        self.world, self.case, self.peer = world, case, world.peer()
        self.journal = world.journal
        self.token = ""

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # kept for the report; the test fails on it after printing everything
            self.case.error = f"{type(e).__name__}: {e}"
            self.journal.note(f"{self.case.path} {self.case.rid or self.case.number}: FAILED {self.case.error}")
        finally:
            self.peer.http.close()

    def _run(self) -> None:
        case, w = self.case, self.world
        r = self.peer.call("POST", "/api/v1/portal/session", json={"order_number": case.number, "email": case.email})
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        case.rid = self.file()
        self.journal.step("created")
        if case.path == "finance_review":
            self.wait("pending_approval")
            self.act(f"/api/v1/returns/{case.rid}/approve", w.staff("admin"), None, "awaiting_shipment")
        view = self.wait("awaiting_shipment")
        if case.path == "cancel":
            self.act(f"/api/v1/returns/{case.rid}/cancel", self.me, None, "cancelled")
            self.journal.step("finished")
            return
        tracking = next(s["tracking_number"] for s in view["shipments"] if s["direction"] == "inbound")
        w.scan(self.peer, tracking, "in_transit")
        w.scan(self.peer, tracking, "delivered")
        self.wait("received")
        self.journal.step("received")
        inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True,
                                 "note": ""}]}  # fmt: skip
        self.act(f"/api/v1/returns/{case.rid}/inspection", w.staff("warehouse"), inspection,
                 "completed", "pending_refund_review", inspected=True)  # fmt: skip
        self.journal.step("inspected")
        if case.path == "finance_review":
            self.wait("pending_refund_review")
            self.act(f"/api/v1/returns/{case.rid}/refund-review", w.staff("finance"), {"approve": True},
                     "completed", reviewed=True)  # fmt: skip
        done = self.wait("completed")
        if case.path == "store_credit":
            case.store_credit_code = done["store_credit_code"]
            self.redeem(case.store_credit_code)
        self.journal.step("finished")

    @property
    def me(self) -> dict[str, str]:
        return bearer(self.token)

    def file(self) -> str:
        """POST the return, and again with the same Idempotency-Key when the answer is lost (5xx, cut connection).

        The key makes a retry reach the return the lost attempt filed; without it, a submit the API finished after
        its caller hung up (a Temporal restart mid-call) leaves a second return beside the retry's."""
        case = self.case
        line = {"line_id": "L1", "quantity": 1, "reason": "too_small",
                "resolution": "refund" if case.path in ("finance_review", "cancel") else case.path}  # fmt: skip
        if case.path == "exchange":
            line["exchange_sku"] = "TEE-L"
        headers = {**self.me, "Idempotency-Key": f"fault-suite-{case.number}"}
        give_up = time.monotonic() + self.peer.deadline
        while time.monotonic() < give_up:
            try:
                r = self.peer.http.post("/api/v1/returns", headers=headers,
                                        json={"order_number": case.number, "lines": [line]})  # fmt: skip
            except httpx.HTTPError as e:
                self.journal.retry(f"POST returns -> {type(e).__name__}")
                time.sleep(2)
                continue
            if r.status_code == 201:
                return r.json()["id"]
            assert r.status_code >= 500, f"POST /returns: {r.status_code} {r.text}"
            self.journal.retry(f"POST returns -> {r.status_code}")
            time.sleep(2)
        raise Gave(f"{case.number}: no return filed")

    def view(self) -> dict[str, Any]:
        r = self.peer.call("GET", f"/api/v1/returns/{self.case.rid}", headers=self.me)
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, status: str, timeout: float = 300.0) -> dict[str, Any]:
        give_up, seen = time.monotonic() + timeout, {}
        while time.monotonic() < give_up:
            seen = self.view()
            if seen["status"] == status:
                return seen
            time.sleep(1.5)
        raise Gave(f"{self.case.rid} never reached {status}; last {seen.get('status')}")

    def act(self, path: str, headers: dict[str, str], body: dict[str, Any] | None, *after: str,
            inspected: bool = False, reviewed: bool = False) -> None:  # fmt: skip
        """POST a staff or shopper action; a 409 after a lost answer is fine once the workflow shows it done."""
        give_up = time.monotonic() + self.peer.deadline
        while True:
            r = self.peer.call("POST", path, headers=headers, json=body)
            if r.status_code == 200:
                return
            # The workflow's own state, not the read model's: a projection written by a workflow task the engine
            # lost says the change happened when it did not.
            status, accepted = self.world.truth(self.case.rid)
            done = status in after or (inspected and all(a is not None for a in accepted))
            if r.status_code == 409 and (done or reviewed and status == "completed"):
                self.journal.note(f"{self.case.path} {self.case.rid}: {path.rsplit('/', 1)[1]} had gone through "
                                  f"before its answer was lost")  # fmt: skip
                return
            assert time.monotonic() < give_up and r.status_code == 409, f"POST {path}: {r.status_code} {r.text}"
            time.sleep(1)

    def redeem(self, code: str) -> None:
        """The shop's checkout spends part of the credit; sent twice, as a checkout retrying after a timeout."""
        for _ in range(2):
            r = self.peer.call("POST", f"/api/v1/store-credit/{code}/redeem", headers=self.world.staff("integration"),
                               json={"amount": REDEEM, "order_reference": f"checkout-{self.case.number}"})  # fmt: skip
            assert r.status_code == 200, r.text
