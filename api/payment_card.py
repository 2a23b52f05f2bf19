"""Which card an order was paid with (brand and last four digits), read from the payment provider for the shopper's
return page ("back to Visa 4242").

Read-only, and never in the way of the page: one short timeout, no retries, answers cached per PaymentIntent (a
paid intent's card does not change); when Stripe does not answer, None, and the page says "your original payment
method". A failure is remembered for a little while, so a page polled every few seconds does not wait on a peer that
is down at each poll. The API must not import activities/, so this builds its own small client from the settings
activities/payments.py uses; the SDK is imported at the first look-up, so starting the API loads no provider code
(tests/api/test_service_layer.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from db.engine import read
from db.models import OrderRow
from settings import Settings

log = logging.getLogger(__name__)

TIMEOUT = 2.0  # seconds for the whole look-up: the page is shown without the card after that
RETRY_AFTER = 30.0  # seconds before a failed look-up is tried again
MOST = 4096  # cached intents; the oldest go first

ORDER_PAYMENT = select(OrderRow.data["payment"]["reference"].as_string()).where(OrderRow.number == bindparam("n"))


@dataclass(frozen=True)
class Card:
    brand: str  # as Stripe names it: visa, mastercard, amex, ...
    last4: str

    def label(self) -> str:
        """ "Visa 4242", "Mastercard 4444", "American Express 0005"."""
        return f"{BRANDS.get(self.brand, self.brand.replace('_', ' ').title())} {self.last4}"


BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
          "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay", "cartes_bancaires": "Cartes Bancaires"}  # fmt: skip

_cards: dict[str, Card | None] = {}  # intent id -> its card (None: paid otherwise than by card)
_failed: dict[str, float] = {}  # intent id -> when the last look-up failed (monotonic)
_references: dict[str, str] = {}  # order number -> its PaymentIntent id (an order's payment does not change)


def _remember(table: dict[str, object], key: str, value: object) -> None:
    if len(table) >= MOST:
        table.pop(next(iter(table)))
    table[key] = value


async def _reference(settings: Settings, order_number: str) -> str | None:
    if order_number in _references:
        return _references[order_number]
    found = await read(settings.resolved_database_url(),
                       lambda conn: conn.scalar(ORDER_PAYMENT, {"n": order_number}))  # fmt: skip
    if found:
        _remember(_references, order_number, str(found))  # type: ignore[arg-type]
    return str(found) if found else None


async def _ask_stripe(settings: Settings, intent_id: str) -> Card | None:
    import stripe  # here, not at the top: see the module's docstring

    base = settings.stripe_api_base
    http = stripe.HTTPXClient(timeout=TIMEOUT)
    client = stripe.StripeClient(settings.stripe_api_key.get_secret_value(), max_network_retries=0, http_client=http,
                                 base_addresses={"api": base} if base else None)  # fmt: skip
    try:
        intent = await client.v1.payment_intents.retrieve_async(intent_id)
        method = intent.payment_method
        if method is None:
            return None
        pm = method if not isinstance(method, str) else await client.v1.payment_methods.retrieve_async(method)
        card = pm.card if pm.type == "card" else None
        return Card(brand=str(card.brand), last4=str(card.last4)) if card and card.last4 else None
    finally:
        await http.close_async()


async def card_of_order(settings: Settings, order_number: str) -> Card | None:
    """The card the order was paid with; None when not known now (the page then names no card)."""
    try:
        intent_id = await _reference(settings, order_number)
    except Exception:  # the page still renders: the card is a nicety
        log.warning("payment card: the order's payment could not be read", exc_info=True)
        return None
    if not intent_id or not intent_id.startswith("pi_"):
        return None
    if intent_id in _cards:
        return _cards[intent_id]
    if time.monotonic() - _failed.get(intent_id, -RETRY_AFTER) < RETRY_AFTER:
        return None
    import stripe  # here, not at the top: see the module's docstring

    try:
        card = await asyncio.wait_for(_ask_stripe(settings, intent_id), TIMEOUT)
    except (stripe.StripeError, TimeoutError, OSError) as e:
        # Not logged with the intent id's details beyond the error's type: the id names a customer's payment.
        log.warning("payment card: Stripe did not answer (%s)", type(e).__name__)
        _remember(_failed, intent_id, time.monotonic())  # type: ignore[arg-type]
        return None
    _failed.pop(intent_id, None)
    _remember(_cards, intent_id, card)  # type: ignore[arg-type]
    return card


def forget() -> None:
    """Empty the caches (tests that stop and start the peer)."""
    _cards.clear()
    _failed.clear()
    _references.clear()
