"""Issue 14's property: hostile input to every operation of /openapi.json and to every HTML form gives no 5xx and no
hang, and afterwards every workflow's state and the read model agree.

The hostile values (tests/support/hostile.py): strings with NUL, C0 and C1 controls and lone surrogates, 10,000
characters, empty; numbers beyond 64 bits, NaN, 1e999, 5,000 digits; naive and extreme dates. Each goes, one at a
time, into a request that is otherwise valid, so that it reaches the field it is meant for: every path, query and
header parameter and every body leaf (typed by the schema; a map's keys and a list as a whole too) of every operation,
and every field of every form the portal and the consoles render, on returns in the states that show each form. A
value that is accepted is followed where it goes: the order is signed into, estimated and returned; the policy
decides a return; the return is read back through the API, the console and the portal.

The stack is `reverso dev`'s supervisor run in this process (as in tests/api/test_schemathesis.py), with the portal's
sign-in limits raised so that hostile sign-ins reach the order lookup, not the limit. A failure lists every case,
grouped by its likely cause: the exception and the deepest frame of our code, read from the API's log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import psycopg
import pytest
import stripe
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.models import ReturnState
from tests.faults.test_nothing_lost import staff_tokens
from tests.support import services
from tests.support.hostile import (
    BODIES,
    BY_KIND,
    HEADER_VALUES,
    LONE_SURROGATE,
    PICKED,
    RANDOM_TEXT,
    TEXT,
    Form,
    Hostile,
    Schemas,
    Slot,
    dotted,
    encode_body,
    form_encode,
    forms_in,
    header_value,
    substitute,
    traceback_summary,
    url_text,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.timeout(900)
TIMEOUT = 30.0  # no answer within this is a hang
SLOW = 10.0  # an answer after this is a failure too: the usual ones take well under a second, even on a busy CI
RANDOM_CASES = 6  # generated cases per operation with a body, besides the fixed hostile values
CONVERGE = 90.0  # how long the workflows and the read model may take to agree once the requests are done
ROOT = str(Path(__file__).resolve().parents[2])
TEMPLATES = Path(ROOT) / "api" / "templates"
EP_SECRET = "hostile-easypost-webhook-secret"
TEE = 2500
ROLES = ("admin", "warehouse", "finance", "integration")
LOCAL_WEBHOOK = "/api/v1/webhooks/carriers/local"


@pytest.fixture(autouse=True)
def _orders_on_workflow_time() -> None:
    """Overrides tests/api/conftest.py's: this module runs its own stack, not the time-skipping server."""


@pytest.fixture(scope="module")
def running() -> Iterator[services.SupervisedStack]:
    # The API and the worker inherit this environment: sign-in limits out of the way (every hostile sign-in is a
    # failed one, and the limits would soon answer 429 before the lookup), and a secret for EasyPost's webhooks.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REVERSO_PORTAL_FAILURES_PER_CLIENT", "1000000")
        env.setenv("REVERSO_PORTAL_FAILURES_PER_ORDER", "1000000")
        env.setenv("REVERSO_EASYPOST__WEBHOOK_SECRET", EP_SECRET)
        with services.scratch_dir("reverso-hostile-") as tmp, services.supervised_stack(tmp) as stack:
            yield stack


@pytest.fixture(scope="module")
def world(running: services.SupervisedStack) -> Iterator[World]:
    w = World(running)
    yield w
    w.close()


# --- talking to the stack --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: no answer (a hang, or the connection dropped)
    text: str = ""
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    error: str = ""
    cause: str = ""  # for a 5xx: the traceback in the API's log, summed up
    seconds: float = 0.0

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class Http:
    """One connection pool with a hang timeout; a 5xx gets its cause from the API's log.

    Requests go one at a time, so what the log gained during one is that request's. After a 5xx uvicorn closes the
    connection (../shared/DESIGN.md), so the pool is replaced."""

    def __init__(self, base_url: str, log: Path) -> None:
        self.base_url, self.log = base_url, log
        self.client = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=TIMEOUT, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def send(
        self, method: str, url: str, headers: dict[str, Any] | None = None, content: bytes | None = None
    ) -> Answer:
        mark = self.log.stat().st_size if self.log.exists() else 0
        started = time.monotonic()
        try:
            r = self.client.request(method, url, headers=headers, content=content)
        except httpx.TimeoutException:
            self._replace()
            return Answer(None, error=f"no answer within {TIMEOUT:.0f} s")
        except httpx.LocalProtocolError as e:  # this client will not send it (e.g. a header HTTP cannot carry)
            return Answer(None, error=f"unsendable: {e}")
        except httpx.HTTPError as e:
            self._replace()
            return Answer(None, error=f"{type(e).__name__}: {e}"[:200], cause=self._logged(mark, 2))
        answer = Answer(r.status_code, r.text, r.headers, seconds=time.monotonic() - started)
        if r.status_code >= 500:
            self._replace()
            body = answer.json()
            detail = f"detail: {body['detail']}" if isinstance(body, dict) and "detail" in body else r.text[:100]
            # uvicorn logs the traceback of a 500 just after sending it; a 503 is an answer, with nothing logged.
            answer.cause = self._logged(mark, 5 if r.status_code == 500 else 0.5) or detail
        return answer

    def _replace(self) -> None:
        self.client.close()
        self.client = self._client()

    def _logged(self, mark: int, wait: float) -> str:
        """The traceback the API logged since `mark`, summed up; "" when none came within `wait` seconds."""
        give_up = time.monotonic() + wait
        while True:
            with self.log.open("rb") as f:
                f.seek(mark)
                text = f.read().decode(errors="replace")
            found = traceback_summary(text, ROOT)
            if (found and not found.startswith("?")) or time.monotonic() > give_up:
                return found or ""
            time.sleep(0.05)


def names_a_field(detail: Any, names: list[str]) -> bool:
    """A 422 names the field: one of the names of the place the value went (see field_names) is in the detail; or
    the body did not parse as JSON at all (pydantic's parser refuses a lone surrogate's escape)."""
    text = json.dumps(detail, ensure_ascii=False)
    unparsed = isinstance(detail, list) and any(isinstance(x, dict) and x.get("type") == "json_invalid" for x in detail)
    return unparsed or any(n in text for n in names)


def take_cookies(cookies: dict[str, str], a: Answer) -> None:
    """What a browser keeps from an answer's Set-Cookie headers (paths aside: each person here has their own jar)."""
    for raw in a.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(raw)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or not morsel.value.strip('"'):
                cookies.pop(name, None)
            else:
                cookies[name] = morsel.value


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}


@dataclass(frozen=True)
class Failure:
    where: str
    field: str
    value: str
    what: str  # "500", "hang", "422 not naming the field", ...
    cause: str = ""

    def group(self) -> str:
        if self.what.startswith("slow"):
            return f"slow (more than {SLOW:.0f} s)"
        if self.what in ("hang", "connection dropped"):
            return f"{self.what} ({self.cause or 'no traceback'})"[:160]
        if self.what[:1] == "5":
            m = re.match(r"^((?:[\w]+\.)*\w+)(?::.*)? (\[at .*\])$", self.cause)
            return f"{self.what} {m.group(1)} {m.group(2)}" if m else f"{self.what} {self.cause[:120]}"
        return self.what


RETURN_ID = re.compile(r"R-[A-Z0-9]{8,}")
PASSWORD = "correct horse battery staple"  # a staff account's, on the account pages


@dataclass
class Target:
    """What an operation or a form acts on: an order with its shopper, a return in some state, a credit code."""

    kind: str
    number: str = ""
    email: str = ""
    token: str = ""  # the shopper's portal session (bearer token, and the portal_session cookie)
    rid: str = ""
    tracking: str = ""  # the return's first inbound parcel
    code: str = ""  # store credit
    payment: str = ""  # the order's PaymentIntent
    photo: str = ""  # an inspection photo of the return's line L1 (kind "photo")

    @property
    def shopper(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def order_body(number: str, email: str, reference: str = "pi_hostile", price: int = TEE) -> dict[str, Any]:
    """A POST /api/v1/orders body with every optional field filled in, so each is a place for a hostile value."""
    now = datetime.now(UTC)
    return {
        "number": number, "email": email, "currency": "EUR",
        "placed_at": (now - timedelta(days=4)).isoformat(), "delivered_at": (now - timedelta(days=2)).isoformat(),
        "payment": {"provider": "stripe", "reference": reference},
        "shipping_amount": 490, "locale": "pt-PT",
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua das Flores 28", "line2": "2 Esq", "city": "Porto",
                             "postal_code": "4050-262", "region": "Porto", "country": "PT"},
        "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 1, "unit_price": price,
                   "final_sale": False, "tags": ["summer"], "category": "tees",
                   "image_url": "https://img.shop.example/tee-m.jpg"}],
    }  # fmt: skip


STEP_ANSWERS = {"l0-qty": "1", "l0-reason": "too_small", "l0-resolution": "refund"}


def refund_line(line_id: str = "L1") -> dict[str, Any]:
    return {"line_id": line_id, "quantity": 1, "reason": "too_small", "resolution": "refund",
            "comment": "The sleeves are short.", "photo_ids": []}  # fmt: skip


def exchange_line() -> dict[str, Any]:
    return {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange", "exchange_sku": "TEE-L",
            "difference_to": "store_credit", "comment": "Too tight at the shoulders.", "photo_ids": []}  # fmt: skip


def inbound(ret: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((s for s in ret["shipments"] if s["direction"] == "inbound" and s["status"] != "voided"),
                  key=lambda s: s.get("parcel") or 1)  # fmt: skip


class Maker:
    """Makes orders, returns in each state and credit codes through the API, as the shop, the shopper, the carrier
    and the staff would. Each maker has its own connections, so several can work beside the hostile requests."""

    def __init__(self, running: services.SupervisedStack, tokens: dict[str, str]) -> None:
        self.running, self.tokens = running, tokens
        self.http = Http(running.api_url, running.state_dir / "logs" / "api.log")
        self.secret = (running.state_dir / "carrier_webhook_secret").read_text().strip()
        self.stripe = stripe.StripeClient("sk_test_hostile", base_addresses={"api": running.stripe_url})

    def staff(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, method: str, url: str, headers: dict[str, str] | None = None, body: Any = None,
             expect: tuple[int, ...] = (200, 201, 202)) -> Any:  # fmt: skip
        headers = {**(headers or {}), **({"content-type": "application/json"} if body is not None else {})}
        a = self.http.send(method, url, headers, encode_body(body) if body is not None else None)
        assert a.status in expect, f"making a target: {method} {url} -> {a.status} {a.text[:400]} {a.error} {a.cause}"
        return a.json()

    def signed(self, body: bytes, msg_id: str | None = None) -> dict[str, str]:
        msg_id = msg_id or "msg_" + uuid.uuid4().hex
        now = datetime.now(UTC)
        return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(self.secret).sign(msg_id, now, body), "content-type": "application/json"}  # fmt: skip

    def scan(self, tracking: str, event: str) -> None:
        body = json.dumps({"tracking_number": tracking, "event": event, "occurred_at": datetime.now(UTC).isoformat()})
        a = self.http.send("POST", LOCAL_WEBHOOK, self.signed(body.encode()), body.encode())
        assert a.status == 202, f"scan {tracking} {event}: {a.status} {a.text[:300]}"

    def wait(self, rid: str, ready: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        give_up = time.monotonic() + 90
        while True:
            got = self.call("GET", f"/api/v1/returns/{rid}", self.staff("admin"))
            if ready(got):
                return got
            assert time.monotonic() < give_up, f"{rid} never {what}: {got['status']} {got['shipments']}"
            time.sleep(0.05)

    def order(self, price: int = TEE) -> Target:
        pi = self.stripe.v1.payment_intents.create(
            {"amount": price, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
        )
        number = "H" + uuid.uuid4().hex[:9].upper()
        t = Target("order", number=number, email=f"{number.lower()}@example.com", payment=pi.id)
        self.call("POST", "/api/v1/orders", self.staff("integration"), order_body(number, t.email, pi.id, price))
        t.token = self.call("POST", "/api/v1/portal/session", body={"order_number": number, "email": t.email})["token"]
        return t

    def make(self, kind: str) -> Target:
        if kind in ("link", "account"):
            return self.account(kind)
        if kind == "credit":
            from activities.store_credit import new_code

            code = new_code()
            with psycopg.connect(self.running.database_url) as conn:
                conn.execute("INSERT INTO store_credits (code, email, currency, balance) VALUES (%s, %s, 'EUR', %s)",
                             (code, "credit@example.com", 10**9))  # fmt: skip
            return Target("credit", code=code)
        # Above the auto-approve limit (25,000) a person approves; above 50,000 finance reviews the refund.
        t = self.order({"pending": 30_000, "review": 60_000}.get(kind, TEE))
        t.kind = kind
        if kind == "order":
            return t
        body = {"order_number": t.number, "lines": [refund_line()], "parcels": 2 if kind == "split" else 1}
        ret = self.call("POST", "/api/v1/returns", t.shopper, body, expect=(201,))
        t.rid = ret["id"]
        want = "pending_approval" if kind in ("pending", "review") else "awaiting_shipment"  # parcel: for scans
        assert ret["status"] == want, ret
        if kind == "review":
            self.call("POST", f"/api/v1/returns/{t.rid}/approve", self.staff("admin"))
            ret = self.wait(t.rid, lambda r: r["status"] == "awaiting_shipment" and bool(inbound(r)), "labelled")
        t.tracking = inbound(ret)[0]["tracking_number"] if inbound(ret) else ""
        if kind in ("received", "review", "refused"):
            self.scan(t.tracking, "delivered")
            self.wait(t.rid, lambda r: r["status"] == "received", "received")
        if kind == "refused":  # refunded by hand in the provider's dashboard first: Stripe refuses ours
            self.stripe.v1.refunds.create({"payment_intent": t.payment})
            inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True,
                                     "note": ""}]}  # fmt: skip
            self.call("POST", f"/api/v1/returns/{t.rid}/inspection", self.staff("warehouse"), inspection)
            self.wait(t.rid, lambda r: r["attention_code"] == "refund_refused", "refused by the payment provider")
        if kind == "review":
            inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True,
                                     "note": ""}]}  # fmt: skip
            self.call("POST", f"/api/v1/returns/{t.rid}/inspection", self.staff("warehouse"), inspection)
            self.wait(t.rid, lambda r: r["status"] == "pending_refund_review", "up for refund review")
        if kind == "returned":  # the carrier sent the parcel back: the Exceptions queue offers its resolutions
            self.scan(t.tracking, "in_transit")
            self.wait(t.rid, lambda r: r["status"] == "in_transit", "in transit")
            self.scan(t.tracking, "returned_to_sender")
            self.wait(t.rid, lambda r: r["attention_code"] == "returned_to_sender", "returned to the shopper")
        if kind == "photo":  # received, with a photo of its line uploaded (issue 18)
            self.scan(t.tracking, "delivered")
            self.wait(t.rid, lambda r: r["status"] == "received", "received")
            content, ctype = photo_upload()
            a = self.http.send("POST", f"/api/v1/returns/{t.rid}/photos", {**self.staff("warehouse"),
                               "content-type": ctype}, content)  # fmt: skip
            assert a.status == 201, f"making a target: photo upload -> {a.status} {a.text[:300]}"
            t.photo = a.json()["id"]
        if kind == "split":  # one parcel of two delivered: the console offers to close receiving
            self.scan(t.tracking, "in_transit")
            self.wait(t.rid, lambda r: r["status"] == "in_transit", "in transit")
            self.scan(t.tracking, "delivered")
            self.wait(t.rid, lambda r: inbound(r)[0]["status"] == "delivered", "with its first parcel delivered")
        return t

    def account(self, kind: str, roles: tuple[str, ...] = ("warehouse",)) -> Target:
        """A staff account invited by e-mail: its link to choose a password ("link"), or already with one."""
        from api import staff_accounts
        from db.engine import get_sessionmaker
        from settings import sqlalchemy_url

        address = f"staff-{uuid.uuid4().hex[:10]}@example.com"

        async def make() -> str:
            sessions = get_sessionmaker(sqlalchemy_url(self.running.database_url))
            async with sessions.begin() as s:
                _, link = await staff_accounts.invite(s, address, roles, "Hostile Tester")
            if kind == "account":
                async with sessions.begin() as s:
                    await staff_accounts.set_password(s, link, PASSWORD)
            return link

        return Target(kind, email=address, token=asyncio.run(make()))


class World:
    """The stack, its staff, targets on demand (made ahead, in the background) and the failures found so far."""

    def __init__(self, running: services.SupervisedStack) -> None:
        self.running = running
        self.tokens = staff_tokens(running)
        self.maker = Maker(running, self.tokens)
        self.http = Http(running.api_url, running.state_dir / "logs" / "api.log")
        self.failures: list[Failure] = []
        self.accepted: set[str] = set()  # hostile values some operation took in (not failures; for the report)
        self.requests = 0
        self.timings: list[str] = []
        self.spent: dict[str, float] = defaultdict(float)  # seconds in requests, in waiting for targets
        self.unsendable = 0  # hostile headers this client refuses to send (HTTP/1.1 cannot carry them)
        self.current: dict[str, Target] = {}
        self.browsers: dict[str, dict[str, str]] = {}
        self.people: dict[str, str] = {}  # the consoles' sign-in: a staff account's e-mail per role
        self.alone = False  # no targets made ahead meanwhile (see Op.alone)
        self.ahead: dict[str, list[Future[Target]]] = defaultdict(list)
        self.makers: list[Maker] = []
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="hostile-maker")
        for sku, title in (("TEE-M", "Tee, M"), ("TEE-L", "Tee, L")):
            self.maker.call("PUT", f"/api/v1/inventory/{sku}", self.staff("integration"),
                            {"title": title, "unit_price": TEE, "currency": "EUR", "available": 100_000})  # fmt: skip
        self.policy = self.maker.call("GET", "/api/v1/policy", self.staff("admin"))["document"]
        self.openapi = self.maker.call("GET", "/openapi.json")
        self.schemas = Schemas(self.openapi)

    def _make_in_background(self, kind: str) -> Target:
        if not hasattr(self.local, "maker"):
            self.local.maker = Maker(self.running, self.tokens)
            self.makers.append(self.local.maker)
        return self.local.maker.make(kind)

    def quiesce(self) -> None:
        """Let every target being made ahead finish now: what comes next (a policy) would change how they turn out."""
        for queue in self.ahead.values():
            for future in queue:
                future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for m in [self.maker, *self.makers]:
            m.http.close()
        self.http.close()

    def staff(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def target(self, kind: str, fresh: bool = False) -> Target:
        """The current target of this kind; `fresh`: a new one (the last was changed by an accepted request).
        Returns that take a while to reach their state are made ahead, in the background."""
        if fresh or kind not in self.current:
            started = time.monotonic()
            queue = self.ahead[kind]
            self.current[kind] = queue.pop(0).result() if queue else self.maker.make(kind)
            if fresh and kind != "credit" and not self.alone:
                while len(queue) < 2:
                    queue.append(self.pool.submit(self._make_in_background, kind))
            self.spent["targets"] += time.monotonic() - started
        return self.current[kind]

    # --- sending and judging -----------------------------------------------------------------------------------

    def send(
        self, method: str, url: str, headers: dict[str, Any] | None = None, content: bytes | None = None
    ) -> Answer:
        self.requests += 1
        started = time.monotonic()
        try:
            return self.http.send(method, url, headers, content)
        finally:
            self.spent["requests"] += time.monotonic() - started

    def judge(self, a: Answer, where: str, fld: str, value: str, names: list[str] | None, api: bool) -> None:
        """No 5xx, no hang; on the API a 4xx is JSON with `detail`, and a 422 names the field."""
        fail = lambda what, cause="": self.failures.append(Failure(where, fld, value, what, cause))  # noqa: E731
        if a.status is None and a.error.startswith("unsendable"):
            self.unsendable += 1
        elif a.status is None:
            fail("hang" if a.error.startswith("no answer") else "connection dropped", a.cause or a.error)
        elif a.status >= 500:
            fail(str(a.status), a.cause)
        elif a.seconds > SLOW:
            fail(f"slow: {a.seconds:.0f} s", f"{a.status}")
        elif api and a.status >= 400:
            body = a.json()
            if not isinstance(body, dict) or "detail" not in body:
                fail(f"{a.status} without a JSON detail", a.text[:150])
            elif (
                a.status == 422
                and isinstance(body["detail"], list)
                and not all(isinstance(x, dict) and {"field", "reason", "type"} <= x.keys() for x in body["detail"])
            ):
                fail("422 detail items without field, reason and type", json.dumps(body["detail"])[:200])
            elif a.status == 422 and names and not names_a_field(body["detail"], names):
                fail("422 not naming the field", json.dumps(body["detail"], ensure_ascii=False)[:200])

    def sign_in(
        self, who: str, t: Target | None = None, judged: tuple[str, str, str] | None = None
    ) -> dict[str, str] | None:
        """Cookies of a person signed in through the pages' own sign-in form: a staff member of role `who`, or the
        shopper of t's order. None when the form refuses (`judged`: where, field, value of the case that led here)."""
        if who in ROLES:
            if who not in self.people:  # the consoles take accounts only, never an API token
                self.people[who] = self.maker.account("account", (who,)).email
            page, fill = "/staff/login", {"email": self.people[who], "password": PASSWORD}
        else:
            assert t is not None
            page, fill = "/portal", {"order_number": t.number, "email": t.email}
        cookies: dict[str, str] = {}
        a = self.send("GET", page)
        assert a.status == 200, f"GET {page}: {a.status} {a.text[:300]} {a.cause}"
        take_cookies(cookies, a)
        form = next(f for f in forms_in(a.text) if f.method == "post" and f.action == page)
        headers = {**cookie_header(cookies), "content-type": "application/x-www-form-urlencoded"}
        a = self.send("POST", page, headers, form_encode(form.base(fill)))
        if judged is not None:
            self.judge(a, f"{judged[0]}, then POST {page}", judged[1], judged[2], None, False)
        if a.status != 303:
            assert judged is not None, f"signing in at {page}: {a.status} {a.text[:300]} {a.cause}"
            return None
        take_cookies(cookies, a)
        return cookies

    def browser(self, who: str, t: Target | None = None) -> dict[str, str]:
        """The Cookie header of a signed-in person, kept for the whole module (nothing here signs these out)."""
        key = who if who in ROLES else f"shopper:{t.number if t else ''}"
        if key not in self.browsers:
            self.browsers[key] = self.sign_in(who, t) or {}
        return cookie_header(self.browsers[key])

    def read_back(self, t: Target, rid: str, where: str, fld: str, value: str) -> None:
        """A return a hostile value reached, read by every kind of reader: API, console, portal. (The status polls
        render the same partial templates as the pages.)"""
        if not rid:
            return
        staff_page, portal_page = self.browser("admin"), self.browser("shopper", t)
        for url, headers, api in (
            (f"/api/v1/returns/{rid}", self.staff("admin"), True),
            (f"/api/v1/returns/{rid}", t.shopper, True),
            (f"/staff/returns/{rid}", staff_page, False),
            (f"/portal/returns/{rid}", portal_page, False),
        ):
            self.judge(self.send("GET", url, headers), f"{where}, then GET {url.replace(rid, '{rid}')}", fld, value,
                       None, api)  # fmt: skip

    def report(self) -> str:
        groups: dict[str, list[Failure]] = defaultdict(list)
        for f in self.failures:
            groups[f.group()].append(f)
        out = [f"{len(self.failures)} failures in {len(groups)} groups ({self.requests} requests):"]
        for name, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            out.append(f"\n== {name} ({len(items)})")
            out.extend(f"   {f.where} | {f.field} | {f.value} | {f.what} | {f.cause[:400]}" for f in items)
        return "\n".join(out)


# --- the operations of /openapi.json ----------------------------------------------------------------------------


@dataclass
class Op:
    """How to send one operation validly: who, on what, with which parameters and body."""

    target: str | None
    auth: Callable[[Target], dict[str, str]]
    path: dict[str, Callable[[Target], str]] = field(default_factory=dict)
    query: dict[str, Callable[[Target], str]] = field(default_factory=dict)
    headers: dict[str, Callable[[Target], str]] = field(default_factory=dict)
    body: Callable[[Target], Any] | None = None
    consumes: bool = False  # an accepted request changes the target: use a new one for the next case
    signer: Callable[[bytes, dict[str, Any]], dict[str, Any]] | None = None  # webhooks: sign the body as sent
    follow: Callable[[Target, Sent], None] | None = None  # where an accepted value goes next
    alone: bool = False  # it changes how returns are decided: no returns are made in the background meanwhile
    multipart: Callable[[Target], tuple[bytes, str]] | None = None  # a valid non-JSON body: (content, content-type)


@dataclass
class Sent:
    key: str
    fld: str
    value: str
    path: dict[str, str]
    body: Any
    answer: Answer


def catalog(w: World) -> dict[str, Op]:
    def staff(role: str) -> Callable[[Target], dict[str, str]]:
        return lambda t: w.staff(role)

    def nobody(t: Target) -> dict[str, str]:
        return {}

    def shopper(t: Target) -> dict[str, str]:
        return t.shopper

    def rid(t: Target) -> str:
        return t.rid

    def ep_signed(body: bytes, headers: dict[str, Any]) -> dict[str, Any]:
        digest = hmac.new(EP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}", **headers}

    def local_signed(body: bytes, headers: dict[str, Any]) -> dict[str, Any]:
        msg_id = headers.get("webhook-id", "msg_" + uuid.uuid4().hex)
        as_text = msg_id.decode("latin-1") if isinstance(msg_id, bytes) else msg_id
        now = datetime.now(UTC)
        return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(w.maker.secret).sign(as_text, now, body), **headers}  # fmt: skip

    def scan(t: Target) -> dict[str, Any]:
        return {"tracking_number": t.tracking, "event": "in_transit", "occurred_at": datetime.now(UTC).isoformat()}

    def easypost_event(t: Target) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        detail = {"object": "TrackingDetail", "status": "in_transit", "status_detail": "arrived_at_facility",
                  "message": "Arrived at facility", "description": "", "datetime": now}  # fmt: skip
        tracker = {"object": "Tracker", "id": "trk_hostile", "tracking_code": t.tracking, "carrier": "USPS",
                   "status": "in_transit", "shipment_id": "shp_hostile", "created_at": now, "updated_at": now,
                   "tracking_details": [detail]}  # fmt: skip
        return {"object": "Event", "id": "evt_" + uuid.uuid4().hex[:12], "description": "tracker.updated",
                "result": tracker}  # fmt: skip

    def new_number(t: Target) -> dict[str, Any]:
        number = "O" + uuid.uuid4().hex[:9].upper()
        return order_body(number, f"{number.lower()}@example.com")

    returns = "/api/v1/returns/{rid}"

    def list_query(sort: str) -> dict[str, Callable[[Any], str]]:
        """The staff list's query (and the CSV's, the same query), each parameter a place for a hostile value."""
        return {"status": lambda t: "awaiting_shipment", "q": lambda t: w.target("awaiting").number,
                "limit": lambda t: "10", "offset": lambda t: "0", "attention": lambda t: "false",
                "sort": lambda t: sort}  # fmt: skip

    return {
        "GET /healthz": Op(None, nobody),
        "PUT /api/v1/inventory/{sku}": Op(
            None,
            staff("integration"),
            path={"sku": lambda t: "HOSTILE-" + uuid.uuid4().hex[:6].upper()},
            body=lambda t: {
                "title": "Hostile tee",
                "unit_price": TEE,
                "currency": "EUR",
                "available": 3,
                "product": "TEE",
                "options": {"size": "L"},
                "image_url": "https://img.shop.example/tee-l.jpg",
                "final_sale": False,
            },  # fmt: skip
            follow=lambda t, s: follow_inventory(w, s),
        ),
        "POST /api/v1/orders": Op(None, staff("integration"), body=new_number, follow=lambda t, s: follow_order(w, s)),
        "POST /api/v1/portal/session": Op("order", nobody, body=lambda t: {"order_number": t.number, "email": t.email}),
        "DELETE /api/v1/portal/session": Op("order", shopper, consumes=True),
        "POST /api/v1/portal/photos": Op("order", shopper, multipart=lambda t: photo_upload()),
        "GET /api/v1/portal/order": Op("order", shopper),
        "POST /api/v1/portal/estimate": Op("order", shopper, body=lambda t: {"lines": [exchange_line()]}),
        "POST /api/v1/returns": Op(
            "order",
            shopper,
            headers={"Idempotency-Key": lambda t: str(uuid.uuid4())},
            consumes=True,
            # accept_charge: the shopper agreed to pay nothing more (the replacement costs the same)
            body=lambda t: {
                "order_number": t.number,
                "lines": [exchange_line()],
                "parcels": 2,
                "accept_charge": 0,
                "locale": "pt-PT",
            },
            follow=lambda t, s: w.read_back(t, (s.answer.json() or {}).get("id", ""), s.key, s.fld, s.value),
        ),
        "GET /api/v1/returns": Op(
            None,
            staff("admin"),
            query=list_query("-total"),
        ),
        "GET /api/v1/returns.csv": Op(
            None,
            staff("admin"),
            query=list_query("created_at"),
        ),
        "POST /api/v1/returns/bulk-approve": Op(
            "pending", staff("admin"), consumes=True, body=lambda t: {"ids": [t.rid]}
        ),
        f"GET {returns}": Op("awaiting", staff("admin"), path={"rid": rid}),
        f"GET {returns}/label.pdf": Op(
            "awaiting",
            staff("admin"),
            path={"rid": rid},
            query={"direction": lambda t: "inbound", "size": lambda t: "a4", "parcel": lambda t: "1"},
        ),
        f"GET {returns}/label.zpl": Op(
            "awaiting",
            staff("admin"),
            path={"rid": rid},
            query={"direction": lambda t: "inbound", "parcel": lambda t: "1"},
        ),
        f"POST {returns}/label": Op("awaiting", shopper, path={"rid": rid}),
        f"POST {returns}/cancel": Op("awaiting", shopper, path={"rid": rid}, consumes=True),
        f"POST {returns}/approve": Op("pending", staff("admin"), path={"rid": rid}, consumes=True),
        f"POST {returns}/reject": Op(
            "pending",
            staff("admin"),
            path={"rid": rid},
            consumes=True,
            body=lambda t: {"reason": "Not as described: the tag is missing."},
        ),
        f"POST {returns}/receive": Op("split", staff("warehouse"), path={"rid": rid}, consumes=True),
        f"POST {returns}/photos": Op(
            "received", staff("warehouse"), path={"rid": rid}, consumes=True, multipart=lambda t: photo_upload()
        ),  # fmt: skip
        f"GET {returns}/photos/{{photo_id}}": Op(
            "photo", staff("finance"), path={"rid": rid, "photo_id": lambda t: t.photo}
        ),  # fmt: skip
        f"POST {returns}/resolve": Op(
            "returned",
            staff("admin"),
            path={"rid": rid},
            consumes=True,
            body=lambda t: {
                "action": "refund_without_receipt",
                "note": "The carrier lost it.",
                "amount": 100,
                "reference": "CLAIM-1",
            },
        ),  # fmt: skip
        f"POST {returns}/inspection": Op(
            "photo",  # received, with a photo of L1 to name
            staff("warehouse"),
            path={"rid": rid},
            consumes=True,
            body=lambda t: {
                "lines": [
                    {
                        "line_id": "L1",
                        "accepted_quantity": 1,
                        "condition": "opened",
                        "restock": True,
                        "note": "Worn once.",
                        "outcome": "used",
                        "photos": [t.photo],
                    }
                ]
            },
        ),
        f"POST {returns}/refund-review": Op(
            "review",
            staff("finance"),
            path={"rid": rid},
            consumes=True,
            body=lambda t: {"approve": True, "amount": 1000, "note": "Partial."},
        ),
        "GET /api/v1/policy": Op(None, staff("admin")),
        "PUT /api/v1/policy": Op(
            None,
            staff("admin"),
            body=lambda t: full_policy(w.policy),
            follow=lambda t, s: follow_policy(w, s),
            alone=True,
        ),
        "GET /api/v1/policy/versions/{version}": Op(None, staff("admin"), path={"version": lambda t: "1"}),
        "GET /api/v1/store-credit/{code}": Op("credit", staff("integration"), path={"code": lambda t: t.code}),
        "POST /api/v1/store-credit/{code}/redeem": Op(
            "credit",
            staff("integration"),
            path={"code": lambda t: t.code},
            body=lambda t: {"amount": 100, "order_reference": "checkout-" + uuid.uuid4().hex[:8]},
        ),
        f"POST {LOCAL_WEBHOOK}": Op(
            "parcel",
            nobody,
            body=scan,
            signer=local_signed,
            headers={"webhook-id": lambda t: "msg_" + uuid.uuid4().hex},
        ),
        "POST /api/v1/webhooks/easypost": Op("parcel", nobody, body=easypost_event, signer=ep_signed),
    }


def full_policy(document: dict[str, Any]) -> dict[str, Any]:
    """The policy in force with every optional map, list and number filled in, each a place for a hostile value."""
    return {**document, "window_days_by_tag": {"holiday": 60}, "window_days_by_category": {"electronics": 14},
            "restocking_fee_bps_by_reason": {"changed_mind": 1000}, "blocked_emails": ["blocked@example.com"],
            "serial_max_returns": 50, "serial_max_value": 10_000_000,
            # Asks nothing more than the default does, so the other examples' returns still file as they are; on the
            # last reason, which a hostile first reason leaves in place.
            "reason_requirements": {document.get("reasons", ["too_small"])[-1]: {"comment": False, "photos": 0}},
            "non_returnable_tags": [*document.get("non_returnable_tags", []), "clearance"]}  # fmt: skip


def shopper_reads(w: World, t: Target, line: dict[str, Any], where: str, s: Sent) -> None:
    """The shopper of t's order reads it (API and page) and asks for an estimate; then files a return and it is read
    back everywhere."""
    cookies = w.sign_in("shopper", t, judged=(where, s.fld, s.value))
    json_headers = {**t.shopper, "content-type": "application/json"}
    for method, url, headers, body in (
        ("GET", "/api/v1/portal/order", t.shopper, None),
        ("POST", "/api/v1/portal/estimate", json_headers, {"lines": [line]}),
        *([("GET", "/portal/order", cookie_header(cookies), None)] if cookies else []),
    ):
        a = w.send(method, url, headers, encode_body(body) if body is not None else None)
        w.judge(a, f"{where} {method} {url}", s.fld, s.value, None, url.startswith("/api"))
    a = w.send("POST", "/api/v1/returns", json_headers, encode_body({"order_number": t.number, "lines": [line]}))
    w.judge(a, f"{where} POST /api/v1/returns", s.fld, s.value, None, True)
    if a.status == 201:
        w.read_back(t, a.json()["id"], f"{where} POST /api/v1/returns", s.fld, s.value)


def follow_order(w: World, s: Sent) -> None:
    """An order that took a hostile value in: its shopper signs in, reads it, estimates, files a return."""
    order = s.body if isinstance(s.body, dict) else {}
    number, email = order.get("number"), order.get("email")
    lines = order.get("lines")
    first_line = lines[0] if isinstance(lines, list) and lines and isinstance(lines[0], dict) else {}
    line_id = first_line.get("id") if isinstance(first_line.get("id"), str) else "L1"
    where = f"{s.key}, then"
    a = w.send("POST", "/api/v1/portal/session", {"content-type": "application/json"},
               encode_body({"order_number": number, "email": email}))  # fmt: skip
    w.judge(a, f"{where} POST /api/v1/portal/session", s.fld, s.value, None, True)
    if a.status != 200:
        return
    t = Target("order", number=str(number), email=str(email), token=a.json()["token"])
    shopper_reads(w, t, refund_line(str(line_id)), where, s)


def follow_policy(w: World, s: Sent) -> None:
    """A policy that took a hostile value in decides: an order's page, an estimate, a return filed under it. Then
    the policy in force before comes back."""
    try:
        shopper_reads(w, w.target("order", fresh=True), exchange_line(), f"{s.key}, then", s)
    finally:
        w.maker.call("PUT", "/api/v1/policy", w.staff("admin"), w.policy)


def photo_upload() -> tuple[bytes, str]:
    """A multipart body with one small PNG of line L1, as the warehouse uploads it (issue 18)."""
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(png, "PNG")
    request = httpx.Request("POST", "http://x/", data={"line_id": "L1"}, files={"file": ("p.png", png.getvalue())})
    return request.read(), request.headers["content-type"]


def follow_inventory(w: World, s: Sent) -> None:
    """An inventory item that took a hostile value in is offered as an exchange: the portal's page and an estimate."""
    t = w.target("order")
    where = f"{s.key}, then"
    a = w.send("GET", "/portal/order", w.browser("shopper", t))
    w.judge(a, f"{where} GET /portal/order", s.fld, s.value, None, False)
    line = {**exchange_line(), "exchange_sku": unquote(s.path.get("sku", ""), errors="replace")}
    a = w.send("POST", "/api/v1/portal/estimate", {**t.shopper, "content-type": "application/json"},
               encode_body({"lines": [line]}))  # fmt: skip
    w.judge(a, f"{where} POST /api/v1/portal/estimate", s.fld, s.value, None, True)


def run_operation(w: World, key: str, op: Op) -> None:
    """Every hostile value in every place of one operation, one at a time, each in an otherwise valid request."""
    method, template = key.split(" ", 1)
    spec = w.openapi["paths"][template][method.lower()]
    declared = {(p["in"], p["name"]): p for p in spec.get("parameters", [])}
    body_schema = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")

    def t() -> Target:
        return w.target(op.target) if op.target else Target("none")

    def send(fld: str, value: str, names: list[str] | None, path: dict[str, str] | None = None,
             query: dict[str, str] | None = None, headers: dict[str, Any] | None = None, body: Any = ...,
             raw: bytes | None = None) -> None:  # fmt: skip
        target = t()
        path_values = {k: url_text(f(target)) for k, f in op.path.items()} | (path or {})
        query_values = {k: url_text(f(target)) for k, f in op.query.items()} | (query or {})
        sent_body = (op.body(target) if op.body else None) if body is ... else body
        url = template.format(**path_values)
        if query_values:
            url += "?" + "&".join(f"{k}={v}" for k, v in query_values.items())
        all_headers: dict[str, Any] = {**op.auth(target), **{k: f(target) for k, f in op.headers.items()},
                                       **(headers or {})}  # fmt: skip
        content = raw if raw is not None else (encode_body(sent_body) if sent_body is not None else None)
        if content is not None:
            all_headers["content-type"] = "application/json"
        elif op.multipart is not None:
            content, all_headers["content-type"] = op.multipart(target)
        if op.signer is not None:
            all_headers = op.signer(content or b"", all_headers)
        a = w.send(method, url, all_headers, content)
        w.judge(a, key, fld, value, names, True)
        if a.status is not None and 200 <= a.status < 300:
            if value != "(valid)":
                w.accepted.add(f"{key} {fld} = {value}")
            if op.follow:
                op.follow(target, Sent(key, fld, value, path_values, sent_body, a))
            if op.consumes and op.target:
                w.target(op.target, fresh=True)
        elif value == "(valid)":
            w.failures.append(Failure(key, "(valid request)", "(valid)", f"{a.status}: the valid request is refused",
                                      f"{a.text[:300]} {a.error} {a.cause}"))  # fmt: skip

    send("(valid request)", "(valid)", None)
    for where, name in declared:
        if where == "header":
            for h in HEADER_VALUES:
                send(f"header.{name}", h.label, [name, name.lower()], headers={name: header_value(h.value)})
        elif where in ("path", "query"):
            for h in TEXT:
                v = {name: url_text(h.value)}
                if where == "path":
                    send(f"path.{name}", h.label, [name], path=v)
                else:
                    send(f"query.{name}", h.label, [name], query=v)
    if key == f"POST {LOCAL_WEBHOOK}":
        for h in HEADER_VALUES:  # a hostile message id, properly signed: it is stored and sent to the workflow
            send("header.webhook-id", h.label, ["webhook-id"], headers={"webhook-id": header_value(h.value)})
    make_body = op.body
    if make_body is None:
        return
    example = make_body(t())
    for slot in w.schemas.slots(example, body_schema):
        for h in BY_KIND[slot.kind]:
            fresh = make_body(t())  # fresh numbers and keys, the same shape
            names = field_names(slot, h)
            send(f"body.{dotted(slot.path)}" + (" (key)" if slot.kind == "key" else ""), h.label, names,
                 body=substitute(fresh, slot, h))  # fmt: skip
    for h in BODIES:
        send("(whole body)", h.label, None, raw=encode_body(h.value))
    # Generated, besides: random text (any character, up to 300) in a random text field, RANDOM_CASES times.
    texts = [slot for slot in w.schemas.slots(example, body_schema) if slot.kind in ("string", "date")]
    if not texts:
        return

    @settings(max_examples=RANDOM_CASES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(slot=st.sampled_from(texts), text=RANDOM_TEXT)
    def generated(slot: Slot, text: str) -> None:
        h = Hostile(f"generated {text!r}"[:120], text)
        send(f"body.{dotted(slot.path)}", h.label, field_names(slot, h) + (["body"] if _surrogate(text) else []),
             body=substitute(make_body(t()), slot, h))  # fmt: skip

    generated()


def _surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def field_names(slot: Slot, h: Hostile) -> list[str]:
    """What a 422 must mention: the field's own name, or an object it is in, by its path (a value the API takes in
    under another name, as EasyPost's tracking_code becomes our tracking_number, is still named there). A map's key
    is named by its map. For a lone surrogate "body" will do: the body is then not Unicode text, refused whole."""
    steps = [str(p) for p in slot.path]
    if slot.kind == "key":
        steps = steps[:-1]
    names = [step for step in steps[-1:] if not step.isdigit()]
    names += [".".join(steps[:i]) + "." for i in range(len(steps) - 1, 0, -1)]
    return names + (["body"] if h is LONE_SURROGATE or not names else [])


def sweep(w: World) -> None:
    """Every list a person reads, over everything stored so far: the consoles' lists (every page), the API's."""
    admin = w.browser("admin")
    total = (w.maker.call("GET", "/api/v1/returns?limit=1", w.staff("admin")) or {}).get("total", 0)
    for offset in range(0, total, 200):
        a = w.send("GET", f"/api/v1/returns?limit=200&offset={offset}", w.staff("admin"))
        w.judge(a, "GET /api/v1/returns", "(every stored return)", f"offset {offset}", None, True)
    urls = [f"/staff/returns?page={p}" for p in range(1, total // 20 + 2)]
    urls += ["/staff/exceptions", "/staff/finance", "/staff/warehouse"]
    for url in urls:
        w.judge(w.send("GET", url, admin), f"GET {url}", "(every stored return)", "", None, False)


def test_every_operation_takes_hostile_values_without_5xx_or_hang(world: World) -> None:
    ops = catalog(world)
    declared = {f"{m.upper()} {p}" for p, methods in world.openapi["paths"].items() for m in methods}
    assert declared == set(ops), (
        f"operations without an example here: {declared - set(ops)}; gone: {set(ops) - declared}"
    )
    # Every property the schema declares has a value in the example, so a hostile value goes there too.
    for key, op in ops.items():
        method, template = key.split(" ", 1)
        content = world.openapi["paths"][template][method.lower()].get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema and op.body:
            t = world.target(op.target) if op.target else Target("none")
            missing = world.schemas.declared(schema) - world.schemas.present(op.body(t), schema)
            assert not missing, f"{key}: the example leaves out {sorted(missing)}"
    for key, op in ops.items():
        started, sent = time.monotonic(), world.requests
        if op.alone:
            world.quiesce()
        world.alone = op.alone
        run_operation(world, key, op)
        world.alone = False
        world.timings.append(f"{time.monotonic() - started:6.1f} s {world.requests - sent:5d} requests  {key}")
    header_cases(world)
    sweep(world)
    print("\n".join(world.timings), dict(world.spent))
    print(f"{len(world.accepted)} hostile values were accepted; {world.unsendable} headers httpx would not send")
    print(world.report())
    assert not world.failures, world.report()


def header_cases(w: World) -> None:
    """Bearer tokens, session cookies, the language cookie and header, webhook signatures: hostile, where HTTP
    can carry them."""
    t = w.target("awaiting")
    cases: list[tuple[str, str, str, Callable[[Any], dict[str, Any]], bool]] = [
        ("GET", "/api/v1/portal/order", "header.Authorization", lambda v: {"Authorization": b"Bearer " + v}, True),
        ("GET", "/api/v1/returns", "header.Authorization", lambda v: {"Authorization": b"Bearer " + v}, True),
        ("GET", f"/api/v1/returns/{t.rid}", "header.Authorization", lambda v: {"Authorization": v}, True),
        ("GET", "/portal/order", "cookie.portal_session", lambda v: {"Cookie": b"portal_session=" + v}, False),
        ("GET", "/staff/warehouse", "cookie.staff_session", lambda v: {"Cookie": b"staff_session=" + v}, False),
        ("GET", "/portal", "cookie.lang", lambda v: {"Cookie": b"lang=" + v}, False),
        ("GET", "/staff/login", "header.Accept-Language", lambda v: {"Accept-Language": v}, False),
        ("POST", LOCAL_WEBHOOK, "header.webhook-signature", lambda v: {"webhook-id": "msg_1",
         "webhook-timestamp": str(int(time.time())), "webhook-signature": v, "content-type": "application/json"}, True),
        ("POST", LOCAL_WEBHOOK, "header.webhook-timestamp", lambda v: {"webhook-id": "msg_1",
         "webhook-timestamp": v, "webhook-signature": "v1,AAAA", "content-type": "application/json"}, True),
        ("POST", "/api/v1/webhooks/easypost", "header.X-Hmac-Signature", lambda v: {"X-Hmac-Signature": v}, True),
    ]  # fmt: skip
    body = json.dumps({"tracking_number": t.tracking, "event": "in_transit", "occurred_at": "2024-01-01T00:00:00Z"})
    for method, url, fld, make, api in cases:
        for h in HEADER_VALUES:
            a = w.send(method, url, make(header_value(h.value)), body.encode() if method == "POST" else None)
            w.judge(a, f"{method} {url.replace(t.rid, '{rid}')}", fld, h.label, None, api)


# --- the forms -------------------------------------------------------------------------------------------------

# Pages that show every form: (who, page, the target it shows). Who: a visitor, a shopper signed in to the target's
# order, or a staff member of that role.
PAGES = [
    ("visitor", "/portal", "order"),
    ("shopper", "/portal/order", "order"),
    ("shopper", "/portal/returns/{rid}", "awaiting"),
    ("shopper", "/portal/returns/{rid}", "pending"),
    ("visitor", "/staff/login", "account"),  # people's accounts only: an API token opens no console
    ("visitor", "/staff/login/password", "account"),
    ("visitor", "/staff/password/forgot", "account"),
    ("visitor", "/staff/password?token={token}", "link"),
    ("warehouse", "/staff/warehouse", "received"),
    ("finance", "/staff/finance", "review"),
    ("admin", "/staff/returns?q={number}", "pending"),
    ("finance", "/staff/returns/{rid}", "refused"),  # retry, store credit, refunded outside
    ("admin", "/staff/exceptions", "returned"),  # its forms act on any return in the queue: it refills itself
    ("admin", "/staff/returns/{rid}", "returned"),
    ("admin", "/staff/returns/{rid}", "pending"),
    ("warehouse", "/staff/returns/{rid}", "received"),
    ("finance", "/staff/returns/{rid}", "review"),
    ("warehouse", "/staff/returns/{rid}", "split"),
]


class Visit:
    """One person on one page: their cookies (session, CSRF), the page's forms, what they fill in."""

    def __init__(self, w: World, who: str, page: str, kind: str | None) -> None:
        self.w, self.who, self.page, self.kind = w, who, page, kind
        self.load(fresh=False)

    def load(self, fresh: bool) -> None:
        """The page afresh, signed in anew (a form here may sign out), for a new target when `fresh`."""
        self.t = self.w.target(self.kind, fresh=fresh) if self.kind else Target("none")
        self.cookies: dict[str, str] = {}
        if self.who != "visitor":
            self.cookies = self.w.sign_in(self.who, self.t) or {}
        self.url = self.page.format(rid=self.t.rid, number=self.t.number, token=self.t.token)
        a = self.go("GET", self.url)
        assert a.status == 200, f"{self.who} on {self.url}: {a.status} {a.text[:300]} {a.cause}"
        self.forms = forms_in(a.text)

    def go(self, method: str, url: str, body: bytes | None = None) -> Answer:
        headers = cookie_header(self.cookies)
        if body is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
        a = self.w.send(method, url, headers, body)
        take_cookies(self.cookies, a)
        return a

    def plain(self, action: str) -> str:
        """The action as the template writes it: a return's id as {rid} (a queue shows the forms of many returns:
        one of them stands for all)."""
        return RETURN_ID.sub("{rid}", action)

    def fill(self) -> dict[str, str]:
        """What a person types into the form's empty boxes."""
        order = self.t if self.t.number or self.t.kind in ("link", "account") else self.w.target("order")
        return {"order_number": order.number, "email": order.email, "token": self.w.tokens["admin"],
                "password": PASSWORD, "confirm": PASSWORD, "reference": "BANK-2291", "amount": "",
                "reason": "Not as described.", "note": "Checked.", "q": order.number, "code": self.t.tracking}  # fmt: skip


def form_key(visit: Visit, form: Form, action: str) -> tuple[str, str, tuple[str, ...]]:
    method = form.method if action == form.action else "post"
    return method, visit.plain(action), tuple(sorted(form.names()))


def run_form(w: World, visit: Visit, key: tuple[str, str, tuple[str, ...]]) -> None:
    """Every hostile value in every field of one form, each in an otherwise sensible submission."""
    method, plain, names = key
    where = f"form {method.upper()} {plain}"

    def current() -> tuple[str, list[tuple[str, str]]] | None:
        form = found_form()
        return None if form is None else (form[1], form[0].base(visit.fill()))

    def found_form() -> tuple[Form, str] | None:
        for form in visit.forms:
            for action in (form.action, *form.also_posts_to):
                if form_key(visit, form, action) == key:
                    return form, action
        return None

    def submit(fld: str, h: Hostile | None) -> None:
        found = current()
        if found is None:
            w.failures.append(Failure(where, fld, h.label if h else "(valid)", "the form is gone after a reload"))
            return
        action, base = found
        if action == "/portal/returns":
            # The order form shows a line's reason and wish only once the line is picked (its steps come by htmx): a
            # shopper's answers to those steps go with every submission.
            base = [(k, v) for k, v in base if k not in STEP_ANSWERS] + list(STEP_ANSWERS.items())
        pairs: list[tuple[str, Any]] = [(k, v) for k, v in base if k != fld]
        if h is not None:
            pairs.append((fld, h.value))
        else:
            pairs = list(base)
        body = form_encode(pairs)
        a = visit.go("GET", f"{action}?{body.decode()}") if method == "get" else visit.go("POST", action, body)
        value = h.label if h else "(valid)"
        w.judge(a, where, fld, value, None, False)
        if h is None and (a.status is None or a.status >= 400):
            said = re.search(r'role="alert"[^>]*>([^<]*)', a.text)  # a page's error, else the start of the answer
            w.failures.append(Failure(where, "(valid submission)", value, f"{a.status}: the valid submission is refused",
                                      f"{said.group(1) if said else a.text[:200]} {a.cause}"))  # fmt: skip
        if method == "post" and a.status is not None and 300 <= a.status < 400:
            if h is not None:
                w.accepted.add(f"{where} {fld} = {value}")
            visit.load(fresh=True)  # the form did something: a new target in the same state, and its page

    submit("(valid submission)", None)
    for name in names:
        form = found_form()
        for h in TEXT if form is None or form[0].typed(name) else PICKED:
            submit(name, h)


def template_actions() -> set[str]:
    """Every form action and hx-post the templates write, with the return id as {rid}."""
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        for m in re.finditer(r'(?:action|hx-post)="([^"]+)"', path.read_text()):
            found.add(re.sub(r"\{\{\s*r(?:ow)?\.id\s*\}\}", "{rid}", m.group(1)))
    return found


def test_every_form_takes_hostile_values_without_5xx_or_hang(world: World) -> None:
    world.failures.clear()
    world.timings.clear()
    done: set[tuple[str, str, tuple[str, ...]]] = set()
    for who, page, kind in PAGES:
        visit = Visit(world, who, page, kind)
        keys = {form_key(visit, f, a) for f in visit.forms for a in (f.action, *f.also_posts_to)}
        for key in sorted(keys - done):
            done.add(key)
            started, sent = time.monotonic(), world.requests
            run_form(world, visit, key)
            world.timings.append(f"{time.monotonic() - started:6.1f} s {world.requests - sent:5d} requests  {key[:2]}")
    # The shopper's photo upload shows only once a line is picked and its reason asks for photos (a step, not a page);
    # its multipart is the one POST /api/v1/portal/photos takes, which the operations test sends hostile values to.
    # Its Remove button shows only once a photo is there; tests/api/test_portal_filing.py sends it what it does not
    # expect.
    missing = template_actions() - {plain for _, plain, _ in done} - {"/portal/photos", "/portal/photos/remove"}
    assert not missing, f"forms no page here shows (add the page to PAGES): {sorted(missing)}"
    sweep(world)
    started, sent = time.monotonic(), world.requests
    page_parameters(world)
    world.timings.append(f"{time.monotonic() - started:6.1f} s {world.requests - sent:5d} requests  page parameters")
    print("\n".join(world.timings), dict(world.spent))
    print(world.report())
    assert not world.failures, world.report()


def page_parameters(w: World) -> None:
    """The pages' own path and query parameters (and ?lang=), hostile, as a link or a typed URL would carry them;
    a form posted (with its CSRF token) to a return id that is hostile."""
    from api.routers import portal_pages, portal_return_pages, staff_pages

    t = w.target("awaiting")
    valid = {"rid": t.rid, "size": "a4", "parcel": "1", "direction": "inbound", "status": "received", "q": t.number,
             "page": "1", "code": t.tracking, "seen": "awaiting_shipment", "lang": "pt"}  # fmt: skip
    routes = [
        r for m in (portal_pages, portal_return_pages, staff_pages) for r in m.router.routes if isinstance(r, APIRoute)
    ]
    assert len(routes) > 20, [r.path for r in routes]
    for route in routes:
        staff = route.path.startswith("/staff")
        cookies = w.browser("admin") if staff else w.browser("shopper", t)
        jar = w.browsers["admin" if staff else f"shopper:{t.number}"]
        csrf = jar.get("staff_csrf" if staff else "portal_csrf", "")
        path_names = [p.name for p in route.dependant.path_params]
        query_names = [p.alias for p in route.dependant.query_params] + ["lang"]
        for method in sorted((route.methods or set()) & {"GET", "POST"}):
            if method == "POST" and not path_names:
                continue  # the forms' own test covers these
            names = path_names if method == "POST" else path_names + query_names
            for name in names:
                for h in TEXT:
                    values = {n: url_text(valid.get(n, "x")) for n in names} | {name: url_text(h.value)}
                    url = route.path.format(**{n: values[n] for n in path_names})
                    if method == "GET":
                        url += "?" + "&".join(f"{n}={values[n]}" for n in query_names)
                        a = w.send("GET", url, cookies)
                    else:
                        headers = {**cookies, "content-type": "application/x-www-form-urlencoded"}
                        a = w.send("POST", url, headers, form_encode([("csrf", csrf)]))
                    w.judge(a, f"{method} {route.path}", name, h.label, None, False)


# --- afterwards: every workflow and the read model agree --------------------------------------------------------


def test_afterwards_every_workflow_and_the_read_model_agree(world: World) -> None:
    """After everything above (run in this order, on the same stack): once the workflows are idle, each return's
    state (its query) is what the read model holds, and no workflow is stuck retrying an activity or a task."""
    found = disagreements(world)
    assert not found, "\n".join(f"{f.where}: {f.what}: {f.field} {f.cause}" for f in found)


def disagreements(w: World) -> list[Failure]:
    """Once the workflows are idle, each one's state (its query) is what the read model holds, and none is retrying
    a failed activity or workflow task. Waits for that, or CONVERGE seconds."""

    async def check() -> list[Failure]:
        client = await Client.connect(w.running.temporal_address, data_converter=pydantic_data_converter)
        started = time.monotonic()
        give_up, rounds = started + CONVERGE, 0
        while True:
            with psycopg.connect(w.running.database_url) as conn:
                rows = {r[0]: r for r in conn.execute("SELECT id, status, version, attention, state FROM returns")}
            ids = set(rows) | {x.id async for x in client.list_workflows("WorkflowType = 'ReturnWorkflow'")}
            limit = asyncio.Semaphore(8)  # queries of finished workflows replay them on the worker: a few at a time
            compared = await asyncio.gather(*(compare(client, rid, rows.get(rid), limit) for rid in sorted(ids)))
            running = {x.id async for x in client.list_workflows("ExecutionStatus = 'Running'")}
            found = [f for fs in compared for f in fs] + await retrying(client, running, limit)
            rounds += 1
            # Done when all agree and nothing is retrying; at the deadline what is left is the answer. A retry that
            # is still going (attempt 2) then counts as stuck too.
            if not found or time.monotonic() > give_up:
                break
            await asyncio.sleep(0.5)
        print(f"agreement: {len(ids)} returns, {rounds} rounds, {time.monotonic() - started:.1f} s")
        return found

    async def compare(client: Client, rid: str, row: Any, limit: asyncio.Semaphore) -> list[Failure]:
        def differ(what: str) -> Failure:
            return Failure(f"workflow {rid}", "(state)", "", "the read model and the workflow disagree", what)

        try:
            async with limit:
                state = await asyncio.wait_for(client.get_workflow_handle(rid).query(ReturnWorkflow.get_state), 15)
        except Exception as e:  # a query that fails or never answers is a disagreement too
            return [differ(f"the state query failed: {type(e).__name__}: {str(e)[:200]}")]
        if state is None and row is None:
            return []  # started, never submitted (or refused at submit): nothing to agree on
        if state is None or row is None:
            return [differ("only the read model has it" if state is None else "only the workflow has it")]
        _, status, version, attention, stored_json = row
        stored = ReturnState.model_validate(stored_json)
        wrong = [f"{name}: workflow {mine!r}, read model {theirs!r}" for name, mine, theirs in (
            ("status", state.status, status), ("version", state.version, version),
            ("attention", state.attention, attention),
            ("lines' notes", [x.note for x in state.lines], [x.note for x in stored.lines]),
        ) if mine != theirs]  # fmt: skip
        if not wrong and state != stored:
            fields = [k for k in type(state).model_fields if getattr(state, k) != getattr(stored, k)]
            wrong.append(f"the stored state differs in {fields}")
        return [differ("; ".join(wrong))] if wrong else []

    async def retrying(client: Client, ids: set[str], limit: asyncio.Semaphore) -> list[Failure]:
        """Workflows with an activity or a workflow task that has failed at least once and is being tried again."""

        async def describe(rid: str) -> Any:
            async with limit:
                return (await client.get_workflow_handle(rid).describe()).raw_description

        found = []
        for rid, raw in zip(sorted(ids), await asyncio.gather(*(describe(rid) for rid in sorted(ids))), strict=True):
            for act in raw.pending_activities:
                if act.attempt > 1:
                    found.append(Failure(f"workflow {rid}", act.activity_type.name, "", "an activity is retried",
                                         f"attempt {act.attempt}: {act.last_failure.message[:200]}"))  # fmt: skip
            if raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt > 1:
                found.append(Failure(f"workflow {rid}", "(workflow task)", "", "a workflow task is retried",
                                     f"attempt {raw.pending_workflow_task.attempt}"))  # fmt: skip
        return found

    return asyncio.run(check())
