"""localstripe, made to answer as Stripe does where Reverso's money depends on it.

localstripe ignores `Idempotency-Key`, lets a payment be refunded beyond what it paid, charges any amount, captures or
cancels an intent in any state and never lets an authorization lapse. Reverso's activities must be written against
Stripe's answers, so this middleware, installed in front of localstripe's own app (`python -m devpeers stripe`),
gives them, with Stripe's HTTP status and error body so that the `stripe` SDK raises what it raises against Stripe:

- `Idempotency-Key` on POST: the same key and parameters replay the first answer; other parameters are refused
  (400, `idempotency_error`); a key still being answered is a 409. Keys are kept 24 hours of the peer's clock.
- PaymentIntent create under the currency's minimum charge: 400 `amount_too_small`.
- A refund above what is left on the charge: 400 `charge_already_refunded` (nothing left) or `amount_too_large`.
- Capture of an intent not `requires_capture`, cancel of one `succeeded` or `canceled`: 400
  `payment_intent_unexpected_state`, the intent in the error as Stripe puts it there.
- A `capture_method=manual` authorization lapses 7 days after it was made: the intent becomes `canceled` with
  `cancellation_reason: "automatic"`.
- `POST /_peer/clock {"advance_seconds": N}` moves the peer's clock forward (objects' `created`, the 7 days, the
  24 hours); `GET /_peer/clock` reads it.
- `POST /_peer/fail {"status": 503, "count": N, "code": null}`: the next N API requests fail so, as Stripe fails
  when it cannot answer now (a 429 with `"code": "lock_timeout"`, a 5xx), with `Stripe-Should-Retry: false` so
  that the SDK hands the error to its caller at once instead of retrying it itself.
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

HOLD_WINDOW = 7 * 24 * 3600
IDEMPOTENCY_WINDOW = 24 * 3600
STATE_KEY = "_reverso_peer"  # the wrapper's own state, in localstripe's store so that it is kept with it

# Stripe's minimum charge amounts, in minor units (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
# A currency not listed is held to 50 minor units, about Stripe's rule of 0.50 USD converted.
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500, "dkk": 250,
    "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300,
    "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}  # fmt: skip
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")


@dataclass
class Saved:
    """The first answer given under one idempotency key."""

    fingerprint: tuple[Any, ...]
    status: int
    body: bytes
    at: float


@dataclass
class PeerState:
    offset: float = 0.0  # seconds the peer's clock runs ahead of the machine's
    answers: dict[tuple[str, str], Saved] = field(default_factory=dict)  # (API key, idempotency key), oldest first
    holds: dict[str, float] = field(default_factory=dict)  # uncaptured manual-capture intent -> authorized at
    captured: dict[str, int] = field(default_factory=dict)  # intent -> amount captured (localstripe keeps no such)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def stripe_error(status: int, code: str | None, message: str, *, kind: str = "invalid_request_error",
                 param: str | None = None, **extra: Any) -> web.Response:  # fmt: skip
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    error.update(extra)
    return web.json_response({"error": error}, status=status)


def body_of(response: web.StreamResponse) -> bytes:
    body = response.body if isinstance(response, web.Response) else None
    return bytes(body) if isinstance(body, bytes | bytearray) else b""


def major(amount: int, currency: str) -> str:
    return str(amount) if currency in ZERO_DECIMAL else f"{amount / 100:.2f}"


class StripeLike:
    """The rules above, over localstripe's `resources` module (its store and its classes)."""

    def __init__(self, resources: Any) -> None:
        self.r = resources
        self.running: set[tuple[str, str]] = set()
        self.failures: list[tuple[int, str | None]] = []  # the next API requests' answers, from /_peer/fail

    # --- state and clock ---

    @property
    def state(self) -> PeerState:
        found = self.r.store.get(STATE_KEY)
        if not isinstance(found, PeerState):  # a new store, or one flushed through /_config/data
            found = self.r.store[STATE_KEY] = PeerState()
        return found

    def now(self) -> float:
        return time.time() + self.state.offset

    def install(self, app: web.Application) -> None:
        # localstripe reads time.time() for every `created`: its objects follow the peer's clock.
        self.r.time = types.SimpleNamespace(time=self.now)
        pi = self.r.PaymentIntent
        pi.cancellation_reason = None
        like = self

        def amount_capturable(intent: Any) -> int:
            return intent.latest_charge.amount if intent.status == "requires_capture" else 0

        def amount_received(intent: Any) -> int:
            if intent.status != "succeeded" or intent.latest_charge is None:
                return 0
            return like.state.captured.get(intent.id, intent.latest_charge.amount)

        pi.amount_capturable = property(amount_capturable)
        pi.amount_received = property(amount_received)
        refund_init = self.r.Refund.__init__

        def refund_the_rest(refund: Any, charge: Any = None, payment_intent: Any = None, amount: Any = None,
                            **kwargs: Any) -> None:  # fmt: skip
            # Stripe refunds what is left when no amount is given; localstripe the whole charge again.
            if amount is None and (found := like.charge_of(payment_intent, charge)) is not None:
                amount = like.unrefunded(found) or None
            refund_init(refund, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs)

        self.r.Refund.__init__ = refund_the_rest
        for intent in self.intents():  # holds made before this wrapper kept an index of them
            if intent.status == "requires_capture" and intent.capture_method == "manual":
                self.state.holds.setdefault(intent.id, intent.latest_charge.created)
        app.middlewares.insert(0, self.middleware)

    def intents(self) -> list[Any]:
        return [v for k, v in self.r.store.items() if k.startswith("payment_intent:")]

    def intent(self, id: str | None) -> Any:
        return self.r.store.get(f"payment_intent:{id}") if id else None

    def charge_of(self, payment_intent: str | None, charge: str | None) -> Any:
        if payment_intent:
            intent = self.intent(payment_intent)
            return intent.latest_charge if intent is not None else None
        return self.r.store.get(f"charge:{charge}") if charge else None

    @staticmethod
    def unrefunded(charge: Any) -> int:
        # localstripe books the uncaptured rest of a partial capture as a refund: what is left is the same number.
        return int(charge.amount - charge.amount_refunded)

    def expire_holds(self) -> None:
        now, holds = self.now(), self.state.holds
        for id, at in list(holds.items()):
            if now - at < HOLD_WINDOW:
                continue
            del holds[id]
            intent = self.intent(id)
            if intent is not None and intent.status == "requires_capture":
                intent._canceled, intent.cancellation_reason = True, "automatic"
                self.r.store.dump_to_disk()

    # --- the middleware ---

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_peer/"):
            return await self.peer_endpoint(request)
        if self.failures and request.path.startswith("/v1/"):
            return self.failure(*self.failures.pop(0))
        if self.state.holds:
            self.expire_holds()
        if request.method != "POST":
            return await handler(request)
        body = await request.read()
        params = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        if not key:
            return await self.answer(request, handler, params)
        scope = (request.headers.get("Authorization", ""), key)
        fingerprint = (request.path, tuple(sorted(params.items())) if params else body)
        self.forget_old_answers()
        saved = self.state.answers.get(scope)
        if saved is not None:
            if saved.fingerprint != fingerprint:
                return stripe_error(400, None, kind="idempotency_error", message=(
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request."))  # fmt: skip
            replay = web.Response(body=saved.body, status=saved.status, content_type="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        if scope in self.running:
            return stripe_error(409, "idempotency_key_in_use", kind="idempotency_error", message=(
                "There is currently another in-progress request using this Idempotent Key (that probably means "
                "you submitted twice, and the other request is still going through). Please try again later."))  # fmt: skip
        if request.path == "/v1/payment_intents" and (small := self.too_small(params)) is not None:
            return small  # a parameter refused before the endpoint ran: Stripe keeps no answer for the key
        self.running.add(scope)
        try:
            response = await self.answer(request, handler, params)
        finally:
            self.running.discard(scope)
        if isinstance(response, web.Response) and response.status not in (401, 409, 429):
            self.state.answers[scope] = Saved(fingerprint, response.status, body_of(response), self.now())
            self.r.store.dump_to_disk()
        return response

    async def answer(self, request: web.Request, handler: Handler, params: dict[str, str]) -> web.StreamResponse:
        refused = self.refusal(request.path, params)
        if refused is not None:
            return refused
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[1] == "payment_intents" and parts[3] == "capture":
            # Known before localstripe answers, so that its answer shows it in `amount_received`.
            intent, wanted = self.intent(parts[2]), params.get("amount_to_capture", "")
            if intent is not None:
                self.state.captured[intent.id] = int(wanted) if wanted.isdigit() else intent.latest_charge.amount
        response = self.as_stripe(await handler(request))
        if response.status == 200:
            self.after(request.path, params, response)
        return response

    def forget_old_answers(self) -> None:
        answers, oldest = self.state.answers, self.now() - IDEMPOTENCY_WINDOW
        while answers and (first := next(iter(answers))) and answers[first].at < oldest:
            del answers[first]

    def refusal(self, path: str, params: dict[str, str]) -> web.Response | None:
        parts = path.strip("/").split("/")
        if parts == ["v1", "payment_intents"]:
            return self.too_small(params)
        if len(parts) == 4 and parts[:2] == ["v1", "payment_intents"] and parts[3] in ("capture", "cancel"):
            return self.unexpected_state(self.intent(parts[2]), parts[3])
        if parts == ["v1", "refunds"]:
            return self.refund_refused(params)
        return None

    def too_small(self, params: dict[str, str]) -> web.Response | None:
        currency = params.get("currency", "").lower()
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            return None  # localstripe's own "Bad request"
        least = MINIMUM_CHARGE.get(currency, 50)
        if not currency or amount <= 0 or amount >= least:
            return None
        return stripe_error(400, "amount_too_small", f"Amount must be at least {major(least, currency)} {currency}",
                            param="amount")  # fmt: skip

    def unexpected_state(self, intent: Any, action: str) -> web.Response | None:
        if intent is None:
            return None
        status = intent.status
        if action == "capture" and status != "requires_capture":
            message = (f"This PaymentIntent could not be captured because it has a status of {status}. Only a "
                       "PaymentIntent with one of the following statuses may be captured: requires_capture.")  # fmt: skip
        elif action == "cancel" and status not in CANCELABLE:
            message = (f"You cannot cancel this PaymentIntent because it has a status of {status}. Only a "
                       f"PaymentIntent with one of the following statuses may be canceled: {', '.join(CANCELABLE)}.")  # fmt: skip
        else:
            return None
        return stripe_error(400, "payment_intent_unexpected_state", message, payment_intent=intent._export())

    def refund_refused(self, params: dict[str, str]) -> web.Response | None:
        charge = self.charge_of(params.get("payment_intent"), params.get("charge"))
        if charge is None or not charge.captured or charge.status != "succeeded":
            return None
        left = self.unrefunded(charge)
        if left <= 0:
            return stripe_error(400, "charge_already_refunded", f"Charge {charge.id} has already been refunded.",
                                charge=charge.id)  # fmt: skip
        try:
            amount = int(params.get("amount") or left)
        except ValueError:
            return None
        if amount > left:
            currency = charge.currency.lower()
            return stripe_error(400, "amount_too_large", param="amount", message=(
                f"Refund amount ({major(amount, currency)} {currency}) is greater than unrefunded amount on charge "
                f"({major(left, currency)} {currency})"))  # fmt: skip
        return None

    @staticmethod
    def as_stripe(response: web.StreamResponse) -> web.StreamResponse:
        # localstripe answers a declined card with 402 but calls it an invalid_request_error; Stripe: a card_error.
        if response.status != 402 or not isinstance(response, web.Response) or not response.body:
            return response
        body = json.loads(body_of(response))
        body.setdefault("error", {})["type"] = "card_error"
        return web.json_response(body, status=402)

    def after(self, path: str, params: dict[str, str], response: web.StreamResponse) -> None:
        parts = path.strip("/").split("/")
        if parts[:2] != ["v1", "payment_intents"] or len(parts) < 2 or not isinstance(response, web.Response):
            return
        intent = self.intent(json.loads(body_of(response) or b"{}").get("id"))
        if intent is None:
            return
        if intent.status == "requires_capture" and intent.capture_method == "manual":
            self.state.holds.setdefault(intent.id, self.now())
        elif parts[-1] in ("capture", "cancel"):
            self.state.holds.pop(intent.id, None)

    @staticmethod
    def failure(status: int, code: str | None) -> web.Response:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        message = "An error occurred with our connection to Stripe." if status >= 500 else "Too many requests."
        if code == "lock_timeout":
            message = "This object cannot be accessed right now because another API request is accessing it."
        response = stripe_error(status, code, message, kind=kind)
        response.headers["Stripe-Should-Retry"] = "false"
        return response

    async def peer_endpoint(self, request: web.Request) -> web.Response:
        if request.method == "GET" and request.path == "/_peer/clock":
            return web.json_response({"now": int(self.now()), "offset_seconds": self.state.offset})
        if request.method != "POST" or request.path not in ("/_peer/clock", "/_peer/fail"):
            return stripe_error(404, "resource_missing", f"Unrecognized request URL ({request.method}: {request.path})")
        raw = await request.read()
        try:
            data = json.loads(raw) if raw.strip().startswith(b"{") else dict(parse_qsl(raw.decode()))
            if request.path == "/_peer/fail":
                status, count, code = int(data.get("status", 503)), int(data.get("count", 1)), data.get("code")
                if not 400 <= status <= 599 or count < 0:
                    raise ValueError(status)
                self.failures = [(status, code or None)] * count
                return web.json_response({"failing": count})
            advance = float(data["advance_seconds"])
            if advance < 0:
                raise ValueError(advance)
        except (ValueError, KeyError, TypeError):
            return stripe_error(400, "parameter_invalid", f"bad parameters for {request.path} (see devpeers_stripe)")
        self.state.offset += advance
        self.r.store.dump_to_disk()
        self.expire_holds()
        return web.json_response({"now": int(self.now()), "offset_seconds": self.state.offset})
