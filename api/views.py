"""The public shape of a return (v1 contract), built from the read model's stored state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.auth import Shopper, Staff
from api.i18n import translator
from api.reason_words import reason_texts
from api.timeline_words import Money, entry_text, shopper_params
from api.wording import Translate
from domain.codes import Coded, Reader
from domain.models import Decision, ReturnState, TimelineEntry
from domain.money import format_amount
from domain.reason_codes import for_shopper


class Amounts(BaseModel):
    currency: str
    refund_total: int
    store_credit_total: int
    fees_total: int


class ReturnLineView(BaseModel):
    line_id: str
    sku: str
    title: str
    quantity: int
    unit_price: int
    reason: str
    resolution: str
    exchange_sku: str | None
    refund: int
    store_credit: int
    fee: int
    accepted_quantity: int | None
    condition: str | None
    restock: bool | None
    note: str
    exchanged_quantity: int
    reasons: list[str] = []  # the policy's explanation of this line (window, fees, waivers)
    # The same as codes with parameters (domain/reason_codes.py); a shopper's lack the shop's thresholds.
    reason_codes: list[Coded] = []
    # Exchanges: the replacement's unit price; the difference, signed (above 0 the shopper pays it, below 0 it
    # comes back as difference_to), with exchange_fee included.
    exchange_unit_price: int | None = None
    price_difference: int = 0
    exchange_fee: int = 0
    difference_to: str = "refund"
    exchange_title: str = ""  # the replacement's title, for pages that name it without its SKU
    outcome: str | None = None  # the inspection's outcome (issue 18): staff only, None for shoppers
    photos: list[str] = []  # inspection photo ids (GET .../photos/{id}): staff only, [] for shoppers
    comment: str = ""  # the shopper's words about the item (issue 19)
    photo_ids: list[str] = []  # the shopper's photos of it (staff read them at GET .../photos/{id})


class ShipmentView(BaseModel):
    direction: str
    carrier: str
    tracking_number: str
    label_url: str
    status: str
    warehouse_id: str | None = None
    service: str = ""  # the carrier's service, for labels bought from a carrier API (e.g. "USPS GroundAdvantage")
    parcel: int = 1  # this label is parcel `parcel` of `parcels`
    parcels: int = 1


class TimelineView(BaseModel):
    at: datetime
    status: str
    # What happened, for a program: a code and its parameters (amounts in minor units of the return's currency);
    # a shopper gets only the parameters meant for them (api.timeline_words.SHOPPER_HIDDEN). "" for old entries.
    code: str = ""
    params: dict[str, Any] = {}
    message: str  # in words for the reader: staff's or a shopper's (roles, never a staff member; no limits)
    by: str = ""  # the staff token's name that did it: staff only, "" for shoppers
    note: str = ""  # finance's or the warehouse's note: staff only, "" for shoppers


class ReturnView(BaseModel):
    id: str
    order_number: str
    status: str
    lines: list[ReturnLineView]
    shipments: list[ShipmentView]
    amounts: Amounts
    timeline: list[TimelineView]
    decision_reasons: list[str]
    decision_codes: list[Coded] = []  # decision_reasons as codes; [] for returns decided before codes
    # Why the shop's screening (block list, serial returner) holds it; filled for staff only, [] for shoppers.
    review_notes: list[str] = []
    # Spends like cash: its shopper, finance and integration (the shop's checkout) read it; admin and warehouse get
    # null and, like everybody, the last four characters to tell codes apart.
    store_credit_code: str | None
    store_credit_code_last4: str | None = None
    created_at: datetime
    updated_at: datetime
    workflow_url: str | None = None
    attention: bool = False  # staff must look at it: a parcel stopped moving or the carrier reported a problem
    # For staff, why in words; for shoppers a plain sentence (SHOPPER_ATTENTION).
    attention_reason: str = ""
    # Staff only ("" and [] for shoppers): why, as a code (domain.models.AttentionCode), and the actions of
    # POST /api/v1/returns/{id}/resolve that fit now.
    attention_code: str = ""
    resolutions: list[str] = []
    warehouse_id: str | None = None  # where the parcel goes, once a label is issued
    policy_version: int | None = None  # the policy version this return was decided under
    exchange_charged: int = 0  # price differences the shopper paid for exchanges (amounts' currency)
    exchange_hold: int = 0  # an instant exchange's card hold while it is open
    # The shopper's language (BCP 47, "pt-PT"), in which their e-mails are written; "" for the shop's default.
    locale: str = ""


class DecisionView(BaseModel):
    approved: bool
    reasons: list[str]
    reason_codes: list[Coded] = []


class CreatedReturn(ReturnView):
    decision: DecisionView


# The JSON speaks English; pages say the same codes in their own language (api/pages.py).
_EN = translator("en")


def said(texts: list[str], codes: list[Coded], reader: Reader) -> tuple[list[str], list[Coded]]:
    """A reader's words and codes for reasons stored both ways; stored before codes, the text is all there is."""
    if not codes:
        return texts, []
    return reason_texts(_EN, codes, reader), [for_shopper(x) for x in codes] if reader == "shopper" else codes


def decision_view(decision: Decision, reader: Reader) -> DecisionView:
    reasons, codes = said(decision.reasons, decision.reason_codes, reader)
    return DecisionView(approved=decision.approved, reasons=reasons, reason_codes=codes)


def decision_for(decision: Decision, reader: Reader) -> Decision:
    """A decision as `reader` may read it (the portal's estimate): words and codes per reader, and the screening's
    notes for staff only."""
    lines = []
    for x in decision.lines:
        reasons, codes = said(x.reasons, x.reason_codes, reader)
        update: dict[str, Any] = {"reasons": reasons, "reason_codes": codes}
        if x.refusal_code:
            (update["refusal"],), (update["refusal_code"],) = said([x.refusal or ""], [x.refusal_code], reader)
        lines.append(x.model_copy(update=update))
    reasons, codes = said(decision.reasons, decision.reason_codes, reader)
    notes = decision.review_notes if reader == "staff" else []
    return decision.model_copy(update={"lines": lines, "reasons": reasons, "reason_codes": codes,
                                       "review_notes": notes})  # fmt: skip


# What a shopper reads of a return that waits for the shop's staff: never the staff's code, and the staff's reason
# only where it speaks of nothing but the shopper's own parcel (what the carrier said about it).
SHOPPER_ATTENTION = "The shop is looking into your return and will be in touch if anything is needed from you."
PARCEL_CODES = frozenset({"parcel_stuck", "returned_to_sender"})


def shopper_attention(st: Any) -> str:
    if not st.attention:
        return ""
    return st.attention_reason if st.attention_code in PARCEL_CODES else SHOPPER_ATTENTION


# Who reads a store-credit code in full besides its shopper: finance reconciles it, the shop's checkout spends it.
CODE_ROLES = ("finance", "integration")


def _timeline(entry: TimelineEntry, st: ReturnState, staff: bool, t: Translate, money: Money) -> TimelineView:
    by, note = entry.by, entry.note
    if entry.code:
        reader: Reader = "staff" if staff else "shopper"

        def reasons() -> str:  # the decision's reasons, said from their codes for this reader in this language
            if not st.decision_codes:
                return "; ".join(st.decision_reasons) if staff else ""
            return "; ".join(reason_texts(t, st.decision_codes, reader))

        message = entry_text(t, entry.code, entry.params, st.currency, reader, reasons, money)
        params = dict(entry.params) if staff else shopper_params(entry.code, entry.params)
    else:  # written before codes (no such return outlives 1.0): its sentence, for staff only, since it may name one
        message = entry.message if staff else ""
        params = {}
    if staff:
        return TimelineView(at=entry.at, status=entry.status, code=entry.code, params=params, message=message,
                            by=by, note=note)  # fmt: skip
    return TimelineView(at=entry.at, status=entry.status, code=entry.code, params=params, message=message)


def return_view(
    state: ReturnState | dict[str, Any],
    workflow_url: str | None = None,
    staff: bool = False,
    who: Staff | Shopper | None = None,
    lang: str = "en",
    money: Money = format_amount,
) -> ReturnView:
    """The API's view of a return for its reader: a staff `who` (or `staff`) reads what only staff may (review
    notes, line notes, who did what); anything else gets the shopper's view. The store-credit code in full goes to
    the shopper and to CODE_ROLES only, so callers who know the reader pass `who`. `lang`: the timeline's language
    (the JSON API's is English; pages pass theirs)."""
    st = state if isinstance(state, ReturnState) else ReturnState.model_validate(state)
    words = translator(lang)
    staff = staff or isinstance(who, Staff)
    shows_code = (isinstance(who, Staff) and any(r in CODE_ROLES for r in who.roles)) or not staff
    reader: Reader = "staff" if staff else "shopper"
    lines = []
    for line in st.lines:
        d = line.decision
        why, why_codes = said(d.reasons, d.reason_codes, reader)
        refund = line.refunded if st.status == "completed" else d.refund
        credit = line.credited if st.status == "completed" else d.store_credit
        lines.append(ReturnLineView(line_id=d.line_id, sku=d.sku, title=d.title, quantity=d.quantity,
                                    unit_price=d.unit_price, reason=d.reason, resolution=d.resolution,
                                    exchange_sku=d.exchange_sku, refund=refund, store_credit=credit, fee=d.fee,
                                    accepted_quantity=line.accepted_quantity, condition=line.condition,
                                    restock=line.restock, note=line.note if staff else "",
                                    exchanged_quantity=line.exchanged_quantity, reasons=why, reason_codes=why_codes,
                                    exchange_unit_price=d.exchange_unit_price, price_difference=d.price_difference,
                                    exchange_fee=d.exchange_fee, difference_to=d.difference_to,
                                    exchange_title=d.exchange_title, outcome=line.outcome if staff else None,
                                    photos=list(line.photos) if staff else [], comment=d.comment,
                                    photo_ids=list(d.photo_ids)))  # fmt: skip
    decision_texts, decision_codes = said(st.decision_reasons, st.decision_codes, reader)
    code = st.store_credit_code
    return ReturnView(
        id=st.id, order_number=st.order_number, status=st.status, lines=lines,
        shipments=[ShipmentView(**s.model_dump()) for s in st.shipments],
        amounts=Amounts(currency=st.currency, refund_total=st.refund_total,
                        store_credit_total=st.store_credit_total, fees_total=st.fees_total),
        exchange_charged=st.exchange_charged, exchange_hold=st.exchange_hold,
        timeline=[_timeline(x, st, staff, words, money) for x in st.timeline],
        decision_reasons=decision_texts, decision_codes=decision_codes, review_notes=st.review_notes if staff else [],
        store_credit_code=code if shows_code else None, store_credit_code_last4=code[-4:] if code else None,
        created_at=st.created_at, updated_at=st.updated_at, workflow_url=workflow_url, warehouse_id=st.warehouse_id,
        policy_version=st.policy_version, attention=st.attention, locale=st.locale,
        attention_reason=st.attention_reason if staff else shopper_attention(st),
        attention_code=st.attention_code if staff else "", resolutions=list(st.resolutions) if staff else [],
    )  # fmt: skip
