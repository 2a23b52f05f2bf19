"""Which card an order was paid with, for the shopper's return page ("back to Visa 4242").

The look-up itself is api/payment_method.py's (one short timeout, answers kept per payment, a failure remembered for
a little while so a page polled every few seconds does not wait on a provider that is down); this adds the order's
PaymentIntent, read once from the database, and the card's name for a person. None: the page then says "your
original payment method".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from api import payment_method
from db.engine import read
from db.models import OrderRow
from settings import Settings

log = logging.getLogger(__name__)

MOST = 4096  # orders whose PaymentIntent is kept; the oldest go first
ORDER_PAYMENT = select(OrderRow.data["payment"]["reference"].as_string()).where(OrderRow.number == bindparam("n"))
BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
          "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay", "cartes_bancaires": "Cartes Bancaires"}  # fmt: skip


@dataclass(frozen=True)
class Card:
    brand: str  # as Stripe names it: visa, mastercard, amex, ...
    last4: str

    def label(self) -> str:
        """ "Visa 4242", "Mastercard 4444", "American Express 0005"."""
        return f"{BRANDS.get(self.brand, self.brand.replace('_', ' ').title())} {self.last4}"


_references: dict[str, str] = {}  # order number -> its PaymentIntent id (an order's payment does not change)


async def _reference(settings: Settings, order_number: str) -> str | None:
    if order_number in _references:
        return _references[order_number]
    found = await read(settings.resolved_database_url(),
                       lambda conn: conn.scalar(ORDER_PAYMENT, {"n": order_number}))  # fmt: skip
    if found:
        if len(_references) >= MOST:
            _references.pop(next(iter(_references)))
        _references[order_number] = str(found)
    return str(found) if found else None


async def card_of_order(settings: Settings, order_number: str) -> Card | None:
    """The card the order was paid with; None when not known now (the page then names no card)."""
    try:
        intent_id = await _reference(settings, order_number)
    except Exception:  # the page still renders: the card is a nicety
        log.warning("payment card: the order's payment could not be read", exc_info=True)
        return None
    if not intent_id or not intent_id.startswith("pi_"):
        return None
    method = await payment_method.payment_method(settings, intent_id)
    return Card(brand=method.brand, last4=method.last4) if method.known and method.last4 else None


def forget() -> None:
    """Empty the caches (tests that stop and start the peer)."""
    _references.clear()
    payment_method.forget()
