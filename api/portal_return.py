"""What the shopper's return page says: where the return is (the progress), what to do next and by when, where the
parcel goes in, where the money goes and when, and why a refund is partial or a return was refused.

Built from the shopper's view of the return (api.views) and nothing internal: no policy limits or thresholds, line
ids, SKUs, staff names or notes. The timeline's messages are cut to what a shopper may read for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from api.payment_card import Card, card_of_order
from api.views import SHOPPER_ATTENTION, ReturnView
from db.engine import read
from db.models import PolicyVersion
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
    return any(t.code == "kept" for t in view.timeline)


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
    if status == "rejected" and any(t.code == "label_unavailable" for t in view.timeline):
        return "rejected_no_label"
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


def explanations(view: ReturnView) -> list[tuple[str, dict[str, Any]]]:
    """Why less comes back than was asked for, in plain words: items not accepted at the check, the shop's decision
    on the refund, a replacement that could not be sent, fees."""
    out: list[tuple[str, dict[str, Any]]] = []
    for x in view.lines:
        if x.accepted_quantity is not None and x.accepted_quantity < x.quantity:
            out.append(("not_accepted", {"title": x.title, "accepted": x.accepted_quantity, "quantity": x.quantity,
                                         "condition": x.condition or ""}))  # fmt: skip
    for t in view.timeline:
        if t.code == "refund_denied":
            out.append(("refund_denied", {}))
        elif t.code == "refund_approved" and isinstance(t.params.get("amount"), int):
            out.append(("refund_set", {"amount": t.params["amount"], "currency": view.amounts.currency}))
        elif t.code == "replacement_unavailable":
            out.append(("no_replacement", {"credit": t.params.get("fallback") == "store_credit"}))
    if view.amounts.fees_total and view.status not in NO_MONEY:
        out.append(("fees", {"amount": view.amounts.fees_total, "currency": view.amounts.currency}))
    return out


def rejected_reason(view: ReturnView) -> str:
    """What the shop wrote the shopper when it refused the return (the `rejected` entry's reason)."""
    entry = next((t for t in reversed(view.timeline) if t.code == "rejected"), None)
    return str(entry.params.get("reason", "")) if entry else ""


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
    """The page's model."""
    refunds = view.status not in NO_MONEY and (view.amounts.refund_total or any(x.resolution == "refund"
                                                                                  for x in view.lines))  # fmt: skip
    card = await card_of_order(settings, view.order_number) if refunds else None
    expires = await ship_by(settings, view) if view.status in ("awaiting_shipment", "expired") else None
    return page_of(view, card, expires, label_void, labelled)
