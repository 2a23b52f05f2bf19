"""Exchanges: the replacement's price, the difference to settle, and what a line falls back to.

Pure and deterministic. The portal's preview, the workflow's decision at submit and the settlement
after inspection all call these functions, so the shopper, the workflow and finance see one amount.
"""

from __future__ import annotations

from pydantic import BaseModel

from domain.models import LineDecision, ReturnLineRequest
from domain.money import format_amount
from domain.policy import PolicySettings
from domain.reason_codes import Said, on_line, said


class ExchangeQuote(BaseModel):
    """The replacement as the inventory has it, and whether stock is held for this line."""

    line_id: str
    sku: str
    title: str = ""
    unit_price: int | None = None  # None: no such product
    currency: str = ""
    reserved: bool = False


def exchange_lines(lines: list[LineDecision]) -> list[LineDecision]:
    return [x for x in lines if x.resolution == "exchange" and x.eligible]


def price_exchanges(
    lines: list[LineDecision],
    requests: list[ReturnLineRequest],
    quotes: list[ExchangeQuote],
    currency: str,
    policy: PolicySettings,
) -> list[Said]:
    """Fill each exchange line's replacement price and difference; the notes explain them to the shopper."""
    by_line = {q.line_id: q for q in quotes}
    wanted = {r.line_id: r.difference_to for r in requests}
    notes: list[Said] = []
    fallback = policy.exchange_fallback
    shipping_left = policy.return_shipping_fee
    for x in exchange_lines(lines):
        x.difference_to = wanted.get(x.line_id, "refund")
        q = by_line.get(x.line_id)
        if q is None or q.unit_price is None or q.currency.upper() != currency.upper():
            x.exchange_unit_price, x.price_difference, x.exchange_fee = None, 0, 0
            text = f"{x.exchange_sku} cannot be sent in exchange: you get a {_fallback(policy)}"
            notes.append(on_line(said(text, "exchange_unavailable", sku=x.exchange_sku or "", fallback=fallback),
                                 x.line_id, x.title))  # fmt: skip
            continue
        x.exchange_title, x.exchange_unit_price, x.exchange_reserved = q.title, q.unit_price, q.reserved
        x.exchange_fee = 0
        if not (policy.free_exchanges and q.unit_price <= x.unit_price):
            x.exchange_fee, shipping_left = shipping_left, 0
        x.price_difference = difference(x, x.quantity)
        notes.append(on_line(describe(x.price_difference, currency, x.difference_to), x.line_id, x.title))
        if not q.reserved:
            text = (f"{x.exchange_sku} is out of stock now: if it still is when your parcel arrives, "
                    f"you get a {_fallback(policy)}")  # fmt: skip
            notes.append(on_line(said(text, "exchange_out_of_stock", sku=x.exchange_sku or "", fallback=fallback),
                                 x.line_id, x.title))  # fmt: skip
    return notes


def charge_due(lines: list[LineDecision]) -> int:
    """What the shopper pays for dearer exchanges: the sum of the differences they pay (`accept_charge` must match)."""
    return sum(x.price_difference for x in exchange_lines(lines) if x.price_difference > 0)


def difference(line: LineDecision, quantity: int) -> int:
    """What the shopper pays (above 0) or gets back (below 0) for `quantity` exchanged units of this line."""
    if line.exchange_unit_price is None or quantity <= 0:
        return 0
    return (line.exchange_unit_price - line.unit_price) * quantity + line.exchange_fee


def describe(amount: int, currency: str, difference_to: str) -> Said:
    cur = currency.upper()
    if amount > 0:
        return said(f"exchange: you pay the difference of {format_amount(amount, currency)} before it ships",
                    "exchange_pay_difference", amount=amount, currency=cur)  # fmt: skip
    if amount < 0:
        to = "store credit" if difference_to == "store_credit" else "a refund"
        return said(f"exchange: {format_amount(-amount, currency)} comes back to you as {to}",
                    "exchange_difference_back", amount=-amount, currency=cur, to=difference_to)  # fmt: skip
    return said("exchange: same price, nothing to pay", "exchange_same_price")


def give_back(line: LineDecision, amount: int) -> None:
    """Pay a lower price's difference back the way the shopper chose."""
    if line.difference_to == "store_credit":
        line.store_credit += amount
    else:
        line.refund += amount


def fall_back(line: LineDecision, policy: PolicySettings) -> None:
    """The replacement cannot ship: the returned item's value comes back as the policy says."""
    if policy.exchange_fallback == "store_credit":
        line.store_credit = line.value
    else:
        line.refund = line.value


def hold_amount(lines: list[LineDecision]) -> int:
    """An instant exchange's card hold: the value of the items the shopper still has to send back."""
    return sum(x.unit_price * x.quantity for x in exchange_lines(lines))


def _fallback(policy: PolicySettings) -> str:
    return "store credit" if policy.exchange_fallback == "store_credit" else "refund"


# --- what the workflows send to the exchange activities ----------------------------------------------


class QuoteLine(BaseModel):
    line_id: str
    sku: str
    quantity: int


class QuoteInput(BaseModel):
    return_id: str
    currency: str
    lines: list[QuoteLine]


class PaymentInput(BaseModel):
    """A charge (kind "charge") or an authorization hold (kind "hold") on the order's payment method."""

    key: str
    return_id: str
    kind: str
    payment_reference: str  # the order's PaymentIntent, whose payment method pays
    amount: int
    currency: str


class PaymentResult(BaseModel):
    key: str
    amount: int
    status: str  # succeeded, held, failed
    provider_intent_id: str | None = None
    reason: str = ""


class HoldSettlement(BaseModel):
    key: str
    capture: int  # minor units to capture; 0 releases the hold
