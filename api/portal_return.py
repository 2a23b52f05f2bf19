"""What the shopper's return page says: where the return is (the progress), what to do next and by when, where the
parcel goes in, where the money goes and when, and why a refund is partial or a return was refused.

Built from the shopper's view of the return (api.views) and nothing internal: no policy limits or thresholds, line
ids, SKUs, staff names or notes. The timeline's messages are cut to what a shopper may read for the same reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from api.formats import money as format_money
from api.payment_card import Card, card_of_order
from api.views import SHOPPER_ATTENTION, ReturnView, TimelineView
from db.engine import read
from db.models import PolicyVersion
from domain.money import CURRENCY_EXPONENTS
from domain.policy import PolicySettings
from settings import Settings

STEPS = ("requested", "send", "on_way", "received", "checked", "money")
AT_STEP = {"pending_approval": 0, "awaiting_shipment": 1, "in_transit": 2, "received": 3,
           "pending_refund_review": 4, "completed": 5}  # fmt: skip
PARCEL_PROBLEMS = ("exception", "returned_to_sender")
NO_MONEY = ("rejected", "cancelled", "expired")
BANK_DAYS = "5-10"  # how long a card refund takes to show on a statement, once sent: the banks', not ours

POLICY_DOCUMENT = select(PolicyVersion.document).where(PolicyVersion.version == bindparam("v"))
_expiry_days: dict[int, int] = {}  # policy version -> shipment_expiry_days (a stored version never changes)


@dataclass
class Step:
    key: str
    state: str  # done, current, todo


@dataclass
class ReturnPage:
    steps: list[Step]
    next: str  # the next-action card's key (portal.next.<key>)
    ship_by: datetime | None
    parcel_problem: bool
    keep_it: bool
    money: list[dict[str, Any]] = field(default_factory=list)  # where each part goes: kind, amount, when
    why: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # plain explanations (key, values)
    rejected_reason: str = ""
    exchange_only: bool = False


async def ship_by(settings: Settings, view: ReturnView) -> datetime | None:
    """The day the return expires without a carrier scan: as the workflow (workflows/shipping.py) counts it, the
    policy version's shipment_expiry_days after the return started waiting for the parcel."""
    started = next((t.at for t in view.timeline if t.status == "awaiting_shipment"), None)
    if started is None or view.policy_version is None:
        return None
    days = _expiry_days.get(view.policy_version)
    if days is None:
        document = await read(settings.resolved_database_url(),
                              lambda conn: conn.scalar(POLICY_DOCUMENT, {"v": view.policy_version}))  # fmt: skip
        days = (PolicySettings.model_validate(document) if document else settings.policy).shipment_expiry_days
        _expiry_days[view.policy_version] = days
    return started + timedelta(days=days)


def _keep_it(view: ReturnView) -> bool:
    return any(t.message.startswith("keep it:") for t in view.timeline)


def progress(view: ReturnView, keep_it: bool) -> list[Step]:
    """The six steps with the current one marked; none for a return that stopped (rejected, cancelled, expired).
    A keep-it return skips the parcel's steps."""
    at = AT_STEP.get(view.status)
    if at is None:
        return []
    keys = [k for k in STEPS if not keep_it or k not in ("send", "on_way", "received", "checked")]
    current = keys.index(STEPS[at]) if STEPS[at] in keys else len(keys) - 1
    done_all = view.status == "completed"
    return [Step(k, "done" if i < current or (done_all and i == current) else "current" if i == current else "todo")
            for i, k in enumerate(keys)]  # fmt: skip


def next_action(view: ReturnView, label_void: bool, labelled: bool, problem: bool) -> str:
    status = view.status
    if status == "awaiting_shipment":
        return "new_label" if label_void else "ship" if labelled else "label_pending"
    if status == "in_transit" and problem:
        return "parcel_problem"
    if status == "received" and _keep_it(view):
        return "keep_it"
    return {"pending_approval": "review", "in_transit": "on_way", "received": "checking",
            "pending_refund_review": "refund_review", "completed": "done", "rejected": "rejected",
            "cancelled": "cancelled", "expired": "expired"}.get(status, "checking")  # fmt: skip


def where_money_goes(view: ReturnView, card: Card | None) -> list[dict[str, Any]]:
    """One entry per way something comes back: refund (to the card), store credit (a code by e-mail), exchange."""
    if view.status in NO_MONEY:
        return []
    a, done = view.amounts, view.status == "completed"
    out: list[dict[str, Any]] = []
    planned = {x.resolution for x in view.lines}
    if a.refund_total or (not done and "refund" in planned):
        out.append({"kind": "refund", "amount": a.refund_total, "card": card.label() if card else ""})
    if a.store_credit_total or (not done and "store_credit" in planned):
        out.append({"kind": "store_credit", "amount": a.store_credit_total, "last4": view.store_credit_code_last4})
    if "exchange" in planned:
        shipped = any(x.exchanged_quantity for x in view.lines)
        titles = ", ".join(dict.fromkeys(x.exchange_title or x.title for x in view.lines if x.resolution == "exchange"))
        out.append({"kind": "exchange", "shipped": shipped, "titles": titles})
    return out


_APPROVED = re.compile(r"^refund of (.+?) approved by ")
_AMOUNT = re.compile(r"(-?\d+(?:\.\d+)?) ([A-Z]{3})\b")


def minor_units(text: str) -> tuple[int, str] | None:
    """ "25.00 EUR" (domain.money.format_amount) back to (2500, "EUR"); None when it is not one."""
    m = _AMOUNT.fullmatch(text.strip())
    if not m or m.group(2) not in CURRENCY_EXPONENTS:
        return None
    exp = CURRENCY_EXPONENTS[m.group(2)]
    whole, _, frac = m.group(1).lstrip("-").partition(".")
    value = int(whole) * 10**exp + (int(frac.ljust(exp, "0")[:exp]) if exp else 0)
    return (-value if m.group(1).startswith("-") else value), m.group(2)


def explanations(view: ReturnView) -> list[tuple[str, dict[str, Any]]]:
    """Why less comes back than was asked for, in plain words: items not accepted at the check, the shop's decision
    on the refund, a replacement that could not be sent, fees."""
    out: list[tuple[str, dict[str, Any]]] = []
    for x in view.lines:
        if x.accepted_quantity is not None and x.accepted_quantity < x.quantity:
            out.append(("not_accepted", {"title": x.title, "accepted": x.accepted_quantity, "quantity": x.quantity,
                                         "condition": x.condition or ""}))  # fmt: skip
    for t in view.timeline:
        if t.message.startswith("refund denied by "):
            out.append(("refund_denied", {}))
        elif (m := _APPROVED.match(t.message)) and (amount := minor_units(m.group(1))):
            out.append(("refund_set", {"amount": amount[0], "currency": amount[1]}))
        elif t.message.startswith("replacement not available") or t.message.startswith("replacement out of stock"):
            out.append(("no_replacement", {"credit": t.message.endswith("store credit")}))
    if view.amounts.fees_total and view.status not in NO_MONEY:
        out.append(("fees", {"amount": view.amounts.fees_total, "currency": view.amounts.currency}))
    return out


def rejected_reason(view: ReturnView) -> str:
    """What the shop wrote the shopper when it refused the return (the workflow's "rejected: <reason>")."""
    entry = next((t for t in reversed(view.timeline) if t.status == "rejected" and t.message.startswith("rejected:")),
                 None)  # fmt: skip
    return entry.message.removeprefix("rejected:").strip() if entry else ""


# --- the timeline, as a shopper reads it -----------------------------------------------------------------------

# Messages whose detail is the policy's reasoning (limits, windows, line ids): the shopper reads the head only.
_HEAD_ONLY = ("return requested: ", "finance review: ", "inspected by the warehouse: ")


def shopper_timeline(view: ReturnView, money: Any) -> list[TimelineView]:
    """The timeline without what is internal: a message naming a line id or a SKU loses its detail (or goes), the
    policy's reasoning after "return requested" goes, amounts are written as the page writes money."""
    words = {w for x in view.lines for w in (x.line_id, x.sku, x.exchange_sku) if w}
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(str(w)) for w in sorted(words, key=len, reverse=True))
                         + r")(?![\w-])") if words else None  # fmt: skip
    out = []
    for t in view.timeline:
        message = t.message
        head = next((h for h in _HEAD_ONLY if message.startswith(h)), None)
        if head:
            message = head.removesuffix(": ")
        elif pattern and pattern.search(message):
            first = message.split(": ", 1)[0]
            message = "" if pattern.search(first) or first == message else first
        message = _AMOUNT.sub(lambda m: _money(m, money), message)
        out.append(t.model_copy(update={"message": message}))
    return out


def _money(m: re.Match[str], money: Any) -> str:
    found = minor_units(m.group(0))
    return money(*found) if found else m.group(0)


def page_of(
    view: ReturnView, card: Card | None, expires: datetime | None, label_void: bool, labelled: bool
) -> ReturnPage:
    keep = _keep_it(view)
    problem = view.status == "in_transit" and (
        any(s.direction == "inbound" and s.status in PARCEL_PROBLEMS for s in view.shipments)
        or (view.attention and view.attention_reason != SHOPPER_ATTENTION)  # the shopper's view: a parcel's problem
    )
    return ReturnPage(
        steps=progress(view, keep), next=next_action(view, label_void, labelled, problem), ship_by=expires,
        parcel_problem=problem, keep_it=keep, money=where_money_goes(view, card), why=explanations(view),
        rejected_reason=rejected_reason(view) if view.status == "rejected" else "",
        exchange_only=bool(view.lines) and all(x.resolution == "exchange" for x in view.lines),
    )  # fmt: skip


async def shopper_page(settings: Settings, view: ReturnView, label_void: bool, labelled: bool, lang: str) -> ReturnPage:
    """The page's model; the view's timeline is cut to what a shopper reads (after the page has read it whole)."""
    refunds = view.status not in NO_MONEY and (view.amounts.refund_total or any(x.resolution == "refund"
                                                                                  for x in view.lines))  # fmt: skip
    card = await card_of_order(settings, view.order_number) if refunds else None
    expires = await ship_by(settings, view) if view.status in ("awaiting_shipment", "expired") else None
    page = page_of(view, card, expires, label_void, labelled)
    view.timeline = shopper_timeline(view, lambda amount, currency: format_money(amount, currency, lang))
    return page
