"""The portal's return form in three steps (issue 19): pick the items, say why for each, then what the shopper wants.

The page sends the whole form at every change (htmx) and gets the steps back as they now stand: a step shows once
the one before is done, amounts are the policy's preview of what is chosen, and errors are only those of the last
submit (a change clears them). Field names: `l{i}-qty`, `l{i}-reason`, `l{i}-comment`, `l{i}-photo` (ids of photos
already uploaded), `l{i}-file`, `l{i}-resolution`, `l{i}-exchange`, `l{i}-difference`, `consent`, `accept_charge`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.exchange_quotes import exchange_choices
from api.pages import first, whole_number
from api.payment_card import card_of_order
from api.photos import PHOTO_ID
from api.services.preview import preview
from db.queries import claimed_quantities
from domain.eligibility import judge_line
from domain.exchanges import charge_due
from domain.models import MAX_PHOTOS, MAX_QUANTITY, Decision, Order, ReturnLineRequest
from domain.policy import PolicySettings
from domain.text import unstorable
from settings import Settings

Form = dict[str, list[str]]
RESOLUTIONS = ("refund", "store_credit", "exchange")


@dataclass
class LineForm:
    """One order line in the form: what it offers, and what the shopper chose so far."""

    i: int
    line: Any
    returnable: int
    eligible: bool
    why: str | None
    why_code: Any
    reasons: list[str]
    choices: list[Any]
    qty: int = 0
    reason: str = ""
    comment: str = ""
    photos: list[str] = field(default_factory=list)
    resolution: str = ""
    exchange: str = ""
    difference: str = "refund"
    needs_comment: bool = False
    needs_photos: int = 0

    @property
    def p(self) -> str:
        return f"l{self.i}-"

    @property
    def complete(self) -> bool:
        return bool(self.reason and self.resolution and (self.resolution != "exchange" or self.exchange))

    def request(self) -> ReturnLineRequest | None:
        try:
            return ReturnLineRequest.model_validate({
                "line_id": self.line.id, "quantity": self.qty, "reason": self.reason, "resolution": self.resolution,
                "exchange_sku": self.exchange if self.resolution == "exchange" else None,
                "difference_to": self.difference, "comment": self.comment, "photo_ids": self.photos,
            })  # fmt: skip
        except ValidationError:
            return None


def option_words(item: Any) -> str:
    """A variant as its options tell it ("M · blue"), or its title when it has none."""
    return " · ".join(str(v) for v in (item.options or {}).values()) or item.title


async def read_lines(db: AsyncSession, order: Order, policy: PolicySettings, form: Form) -> list[LineForm]:
    claimed = await claimed_quantities(db, order.number)
    now = datetime.now(UTC)
    out = []
    for i, line in enumerate(order.lines):
        verdict = judge_line(order, line, claimed.get(line.id, 0), now, policy)
        eligible = verdict.eligible
        x = LineForm(i=i, line=line, returnable=verdict.returnable, eligible=eligible, why=verdict.refusal,
                     why_code=verdict.refusal_code, reasons=policy.reasons_for(line.category),
                     choices=await exchange_choices(db, line.sku, order.currency) if eligible else [])  # fmt: skip
        if eligible:
            _chosen(x, form, policy)
        out.append(x)
    return out


def _chosen(x: LineForm, form: Form, policy: PolicySettings) -> None:
    p = x.p
    # Above what can be returned: the policy's refusal says so at submit.
    x.qty = whole_number(first(form, p + "qty") or "0", MAX_QUANTITY) or 0
    if not x.qty:
        return
    reason = first(form, p + "reason")
    x.reason = reason if reason in x.reasons else ""
    need = policy.requirement(x.reason)
    x.needs_comment, x.needs_photos = need.comment, need.photos
    comment = (form.get(p + "comment") or [""])[0]
    x.comment = comment[:1000] if unstorable(comment, multiline=True) is None else ""
    x.photos = [v for v in form.get(p + "photo", []) if PHOTO_ID.fullmatch(v)][:MAX_PHOTOS]
    resolution = first(form, p + "resolution")
    x.resolution = resolution if resolution in RESOLUTIONS and (resolution != "exchange" or x.choices) else ""
    exchange = first(form, p + "exchange")
    x.exchange = exchange if exchange in {c.sku for c in x.choices} else ""
    x.difference = "store_credit" if first(form, p + "difference") == "store_credit" else "refund"


@dataclass
class Steps:
    lines: list[LineForm]
    picked: list[LineForm]
    step2: bool
    step3: bool
    complete: bool
    decision: Decision | None = None
    charge: int = 0
    card: str = ""
    consent: bool = False

    def requests(self) -> list[ReturnLineRequest]:
        return [r for x in self.picked if (r := x.request()) is not None]


async def steps(
    db: AsyncSession, settings: Settings, order: Order, policy: PolicySettings, form: Form
) -> Steps:  # fmt: skip
    lines = await read_lines(db, order, policy, form)
    picked = [x for x in lines if x.qty]
    step3 = bool(picked) and all(x.reason for x in picked)
    complete = step3 and all(x.complete for x in picked)
    out = Steps(lines, picked, bool(picked), step3, complete, consent=first(form, "consent") == "yes")
    requests = out.requests() if complete else []
    if complete and len(requests) == len(picked):
        out.decision = await preview(db, order, requests, policy)
        out.charge = charge_due(out.decision.lines)
        if out.charge:
            card = await card_of_order(settings, order.number)
            out.card = card.label() if card else ""
    return out


def missing(s: Steps) -> dict[str, str]:
    """What a submit lacks, by field, as catalog keys."""
    errors: dict[str, str] = {}
    if not s.picked:
        errors["l0-qty" if s.lines else "form"] = "order.none_chosen"
    for x in s.picked:
        if x.reason and x.complete and x.request() is None:  # what the form cannot send as it is
            errors[x.p + "line"] = "form.line_invalid"
        elif not x.reason:
            errors[x.p + "reason"] = "form.reason_needed"
        elif not x.resolution:
            errors[x.p + "resolution"] = "form.resolution_needed"
        elif x.resolution == "exchange" and not x.exchange:
            errors[x.p + "exchange"] = "line.exchange_needed"
    if s.charge and not s.consent and not errors:
        errors["consent"] = "form.consent_needed"
    return errors


def field_of(s: Steps, api_field: str) -> str:
    """The form's field for a 422's field (`lines.0.comment` is the first picked line's comment)."""
    parts = api_field.removeprefix("body.").split(".")
    if parts[0] == "accept_charge":
        return "consent"
    if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(s.picked):
        name = {"photo_ids": "file", "exchange_sku": "exchange"}.get(parts[2], parts[2])
        return s.picked[int(parts[1])].p + name
    return "form"
