"""Types that flow between the API, the workflows and the activities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.bounds import MinorUnits, ShopDateTime
from domain.codes import Coded
from domain.languages import LanguageTag
from domain.money import normalize_currency
from domain.text import Email, Identifier, ImageUrl, Note, OneLine, OptionalText, RequiredNote, ShortText

Status = Literal[
    "pending_approval",
    "awaiting_shipment",
    "in_transit",
    "received",
    "pending_refund_review",
    "completed",
    "rejected",
    "cancelled",
    "expired",
]
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "rejected", "cancelled", "expired"})
# Returns in these states no longer hold a claim on the order's quantities.
RELEASED_STATUSES: frozenset[str] = frozenset({"rejected", "cancelled", "expired"})

Resolution = Literal["refund", "store_credit", "exchange"]
# Why a return needs a person (the Exceptions queue); "" when it does not.
AttentionCode = Literal[
    "refund_refused", "charge_failed", "hold_expired", "parcel_lost", "parcel_stuck", "returned_to_sender",
    "label_unavailable", "late_scan", "activity_stalled", "bad_data",
]  # fmt: skip
# What staff may do about it (POST /api/v1/returns/{id}/resolve).
ResolveAction = Literal["retry", "store_credit", "refund_outside", "refund_without_receipt", "close", "reopen"]
Condition = Literal["new", "opened", "damaged"]
# What the warehouse found in the parcel, beside the condition (issue 18); money still follows accepted_quantity.
Outcome = Literal["as_described", "damaged", "used", "wrong_item", "empty_box"]
MAX_PHOTOS = 3  # photos per inspected line
# A stored inspection photo's id (api/photos.py: 32 lowercase hex digits).
PhotoId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
# The normalized scan kinds every carrier adapter maps onto (activities/carriers/base.py TrackingStatus).
CarrierEventKind = Literal[
    "pre_transit", "in_transit", "out_for_delivery", "delivered", "exception", "returned_to_sender"
]
MAX_QUANTITY = 10_000  # units of one line
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Currency = Annotated[str, Field(min_length=3, max_length=3), OneLine]  # then checked against ISO 4217
# A carrier's tracking number, as the shipments and carrier_events columns hold it.
TrackingNumber = Annotated[str, Field(min_length=1, max_length=64), OneLine]
MAX_PARCELS = 10  # labels one return may ask for: more boxes than this is a freight job


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(Strict):
    name: ShortText
    line1: ShortText
    line2: OptionalText = ""
    city: ShortText
    postal_code: Annotated[str, Field(max_length=20), OneLine] = ""
    region: Annotated[str, Field(max_length=100), OneLine] = ""
    country: Annotated[str, Field(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")]


class Payment(Strict):
    provider: Literal["stripe"]
    reference: ShortText


class OrderLine(Strict):
    # At most 100: a line id goes into ledger keys (return id, kind, line id) of 200 characters.
    id: Identifier
    sku: Identifier
    title: ShortText
    quantity: Quantity
    unit_price: MinorUnits
    final_sale: bool = False
    # What the policy's per-tag / per-category rules (window, non-returnable) look at.
    tags: Annotated[list[Identifier], Field(max_length=50)] = []
    category: Identifier | None = None
    image_url: ImageUrl | None = None  # the product's picture, shown in the portal, e-mails and staff pages


class Order(Strict):
    number: ShortText
    email: Email
    currency: Currency
    placed_at: ShopDateTime
    delivered_at: ShopDateTime | None = None
    payment: Payment
    shipping_address: Address
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=500)]
    # What the shopper paid for delivery (minor units); refunded as the policy's refund_original_shipping says.
    shipping_amount: MinorUnits | None = None
    # The shopper's language ("pt-PT"): their e-mails are in it unless they used the portal in another.
    locale: LanguageTag | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        return normalize_currency(v)

    @model_validator(mode="after")
    def _unique_lines(self) -> Order:
        ids = [line.id for line in self.lines]
        if len(ids) != len(set(ids)):
            raise ValueError("lines: each line id must be unique")
        return self

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)


class ReturnLineRequest(Strict):
    line_id: Identifier
    quantity: Quantity
    reason: Identifier
    resolution: Resolution
    exchange_sku: Identifier | None = None
    # An exchange for a cheaper item: how the difference comes back.
    difference_to: Literal["refund", "store_credit"] = "refund"
    # What the shopper adds for staff (the policy's reason_requirements may ask for them): words, and photos uploaded
    # first with POST /api/v1/portal/photos for this order.
    comment: Note = ""
    photo_ids: Annotated[list[PhotoId], Field(max_length=MAX_PHOTOS)] = []

    @model_validator(mode="after")
    def _exchange_needs_sku(self) -> ReturnLineRequest:
        if self.resolution == "exchange" and not self.exchange_sku:
            raise ValueError("exchange_sku is required when resolution is exchange")
        return self


class ReturnRequest(Strict):
    order_number: ShortText
    lines: Annotated[list[ReturnLineRequest], Field(min_length=1, max_length=100)]
    parcels: Annotated[int, Field(ge=1, le=MAX_PARCELS)] = 1  # how many boxes the shopper ships it in
    # The charge for dearer exchanges the shopper agreed to (minor units): filed only when it is what they would pay.
    accept_charge: MinorUnits | None = None
    # The language the shopper filed in ("pt-PT"): their return's e-mails and pages use it. None: the order's.
    locale: LanguageTag | None = None

    @model_validator(mode="after")
    def _unique_lines(self) -> ReturnRequest:
        ids = [line.line_id for line in self.lines]
        if len(ids) != len(set(ids)):
            raise ValueError("lines: each line_id may appear once")
        return self


class LineDecision(BaseModel):
    line_id: str
    sku: str = ""
    title: str = ""
    quantity: int
    unit_price: int = 0
    reason: str
    resolution: Resolution
    exchange_sku: str | None = None
    eligible: bool
    refusal: str | None = None
    value: int = 0
    fee: int = 0
    refund: int = 0
    store_credit: int = 0
    reasons: list[str] = []  # the policy's explanation of this line: window, fees, waivers
    # The same as codes (domain/reason_codes.py): what the JSON's words are made from, per reader.
    reason_codes: list[Coded] = []
    refusal_code: Coded | None = None
    # Exchanges (domain/exchanges.py): the replacement's price and the difference, signed: above 0 the
    # shopper pays it, below 0 it comes back (difference_to). None: no such product in the inventory.
    exchange_title: str = ""
    exchange_unit_price: int | None = None
    exchange_fee: int = 0
    price_difference: int = 0
    difference_to: Literal["refund", "store_credit"] = "refund"
    exchange_reserved: bool = False
    comment: str = ""  # the shopper's words about the item, for staff
    photo_ids: list[str] = []  # the shopper's photos of it (shopper_photos), for staff


class Decision(BaseModel):
    approved: bool
    status: Status | None
    reasons: list[str]
    currency: str
    lines: list[LineDecision]
    value_total: int = 0
    refund_total: int = 0
    store_credit_total: int = 0
    fees_total: int = 0
    keep_it: bool = False  # refund without return: no label, no inspection
    review_notes: list[str] = []  # why the shop's screening holds it (block list, serial returner): staff only
    reason_codes: list[Coded] = []  # `reasons` as codes (domain/reason_codes.py)

    def add_reasons(self, said: Sequence[tuple[str, Coded]]) -> None:
        self.reasons = [*self.reasons, *(text for text, _ in said)]
        self.reason_codes = [*self.reason_codes, *(code for _, code in said)]

    @property
    def ineligible(self) -> list[LineDecision]:
        return [line for line in self.lines if not line.eligible]


class InspectionLine(Strict):
    line_id: Identifier
    accepted_quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
    condition: Condition
    restock: bool
    note: Note = ""
    outcome: Outcome | None = None
    photos: Annotated[list[PhotoId], Field(max_length=MAX_PHOTOS)] = []  # ids from POST .../photos, this line's


class Inspection(Strict):
    lines: Annotated[list[InspectionLine], Field(min_length=1, max_length=100)]
    inspected_by: str = ""  # the staff token's name, read from PostgreSQL: not input


class RefundReview(Strict):
    approve: bool
    amount: MinorUnits | None = None
    note: Note = ""
    reviewed_by: str = ""  # as inspected_by


class ResolveRequest(Strict):
    """A person's decision on a return in the Exceptions queue (POST /api/v1/returns/{id}/resolve)."""

    action: ResolveAction
    note: RequiredNote  # staff-only: why
    amount: MinorUnits | None = None  # default: what is still owed
    reference: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = None  # refund_outside: required
    by: str = ""  # set by the API: who resolved it

    @model_validator(mode="after")
    def _reference(self) -> ResolveRequest:
        if self.action == "refund_outside" and not self.reference:
            raise ValueError("reference: required for refund_outside")
        return self


class CarrierEvent(BaseModel):
    tracking_number: TrackingNumber
    event: CarrierEventKind
    occurred_at: ShopDateTime
    event_id: Annotated[str, Field(max_length=200), OneLine] = ""  # carrier_events.event_id


class Shipment(BaseModel):
    direction: Literal["inbound", "outbound"]
    carrier: str
    tracking_number: str
    label_url: str
    status: str
    # Which warehouse the parcel goes to (inbound) or leaves from (outbound); None in older histories.
    warehouse_id: str | None = None
    # The carrier's own id of the label (EasyPost shp_...), needed to void an unused label.
    provider_shipment_id: str | None = None
    service: str = ""  # e.g. "USPS GroundAdvantage", for labels bought from a carrier API
    # A return may ship in several parcels, each with its own label ("parcel n of m").
    parcel: int = 1
    parcels: int = 1


class TimelineEntry(BaseModel):
    seq: int
    at: datetime
    status: str
    # What happened, as a code and its parameters (issue 15): words for a reader are made at the edge
    # (api/timeline_words.py). Parameters are strings, integers (amounts in minor units of the return's currency)
    # and lists of them, never a person's name: that is `by`.
    code: str = ""
    params: dict[str, Any] = {}
    message: str = ""  # entries written before codes: the English sentence, naming roles, never a person
    by: str = ""  # the staff member (token name) who did it: staff only; "" for the shopper and the system
    note: str = ""  # what finance wrote with a refund decision: staff only


class ReturnLineState(BaseModel):
    decision: LineDecision
    accepted_quantity: int | None = None
    condition: Condition | None = None
    restock: bool | None = None
    note: str = ""
    outcome: Outcome | None = None  # staff only, as the note
    photos: list[str] = []  # inspection photo ids: staff only
    refunded: int = 0
    credited: int = 0
    exchanged_quantity: int = 0


class ReturnState(BaseModel):
    """What the `state` query answers and what the read model stores."""

    id: str
    order_number: str
    email: str
    currency: str
    status: Status
    lines: list[ReturnLineState]
    shipments: list[Shipment] = []
    timeline: list[TimelineEntry] = []
    decision_reasons: list[str] = []
    decision_codes: list[Coded] = []  # decision_reasons as codes; [] in returns decided before them
    review_notes: list[str] = []  # Decision.review_notes: staff only, never in a shopper's view or e-mail
    refund_total: int = 0
    store_credit_total: int = 0
    fees_total: int = 0
    store_credit_code: str | None = None
    version: int = 0  # bumped at every change, so the read model never goes back in time
    warehouse_id: str | None = None  # where the parcel goes, once a label is issued (routing in settings)
    policy_version: int | None = None  # the policy document version this return was decided under
    exchange_charged: int = 0  # price differences the shopper paid for exchanges
    exchange_hold: int = 0  # an instant exchange's card hold while it is open
    # Staff must look at it (the Exceptions queue): `attention_code` says why (AttentionCode), `attention_reason`
    # says it in words for staff, `resolutions` are the actions that fit now. Cleared when the cause is over.
    attention: bool = False
    attention_reason: str = ""
    attention_code: AttentionCode | Literal[""] = ""
    resolutions: list[ResolveAction] = Field(default_factory=list)
    # The shopper's language, BCP 47 ("pt-PT"): the portal's when filed there, else the order's; "" for the shop's
    # default (REVERSO_SHOP_LOCALE). Their e-mails are written in it.
    locale: str = ""
    created_at: datetime
    updated_at: datetime
