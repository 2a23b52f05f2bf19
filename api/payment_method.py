"""How an order was paid (card brand and last four digits), read from the payment provider for finance's review.

A read-only lookup over Stripe's REST API with httpx, not the stripe SDK: the API process loads no provider SDK
(tests/api/test_service_layer.py), and only the worker's activities move money. A paid intent's method never
changes, so an answer is kept for the process's life; a failure (the peer down or slow, an unknown intent) is
kept for a short while and shown as unknown, never as an error page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from settings import Settings

STRIPE_API = "https://api.stripe.com"
TIMEOUT = httpx.Timeout(2.0)
RETRY_AFTER_FAILURE = 30.0  # seconds before asking again about a payment the provider did not answer for
MOST_KEPT = 2000


@dataclass(frozen=True)
class PaymentMethod:
    brand: str  # "visa", "mastercard", ... as the provider names it; "" when unknown
    last4: str

    @property
    def known(self) -> bool:
        return bool(self.brand or self.last4)


UNKNOWN = PaymentMethod("", "")
_known: dict[str, PaymentMethod] = {}
_failed: dict[str, float] = {}


async def payment_method(settings: Settings, reference: str) -> PaymentMethod:
    """The card (or other method) that paid the PaymentIntent `reference`; UNKNOWN when it cannot be told now."""
    if reference in _known:
        return _known[reference]
    if time.monotonic() < _failed.get(reference, 0.0):
        return UNKNOWN
    try:
        found = await _ask(settings, reference)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        found = None
    if found is None:
        _failed[reference] = time.monotonic() + RETRY_AFTER_FAILURE
        return UNKNOWN
    if len(_known) >= MOST_KEPT:
        _known.clear()
    _known[reference] = found
    _failed.pop(reference, None)
    return found


async def _ask(settings: Settings, reference: str) -> PaymentMethod | None:
    base = (settings.stripe_api_base or STRIPE_API).rstrip("/")
    auth = (settings.stripe_api_key.get_secret_value(), "")
    async with httpx.AsyncClient(base_url=base, auth=auth, timeout=TIMEOUT, trust_env=False) as http:
        intent = await http.get(f"/v1/payment_intents/{_safe(reference)}")
        if intent.status_code != 200:
            return None
        method = intent.json().get("payment_method")
        method_id = method.get("id") if isinstance(method, dict) else method
        if not isinstance(method_id, str) or not method_id:
            return None
        answer = await http.get(f"/v1/payment_methods/{_safe(method_id)}")
        if answer.status_code != 200:
            return None
        body = answer.json()
        details = body.get(body.get("type") or "card") or {}
        brand = str(details.get("brand") or details.get("bank_code") or body.get("type") or "")
        return PaymentMethod(brand=brand[:40], last4=str(details.get("last4") or "")[:4])


def _safe(ident: str) -> str:
    """An id as one path segment (a reference is the shop's text: it must not walk to another path)."""
    return quote(ident, safe="")


def forget() -> None:
    """Empty the caches (tests that stop and start the peer)."""
    _known.clear()
    _failed.clear()
