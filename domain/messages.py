"""Inputs and outputs of workflows and activities: the contract between them, pure pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import MinorUnits
from domain.languages import LanguageTag
from domain.models import MAX_PARCELS, Address, Decision, Order, ReturnLineRequest, ReturnState, Shipment
from domain.policy import PolicySettings


class ReturnInput(BaseModel):
    return_id: str
    order_number: str


class SubmitRequest(BaseModel):
    """The `submit` update's argument: bounded as ReturnRequest is, for callers that reach the workflow directly."""

    lines: Annotated[list[ReturnLineRequest], Field(min_length=1, max_length=100)]
    parcels: Annotated[int, Field(ge=1, le=MAX_PARCELS)] = 1  # one inbound label per parcel
    locale: LanguageTag | None = None  # the language the shopper filed in; None: the order's
    # The charge the shopper agreed to for dearer exchanges: the submit is refused (ChargeChanged) when the decision,
    # made under the order's lock with the replacements reserved, computes another. None: no consent asked.
    accept_charge: MinorUnits | None = None


class SubmitAnswer(ReturnState):
    """What `submit` answers: the return as filed, and the decision with a reason per line."""

    decision: Decision


class ClaimInput(BaseModel):
    return_id: str
    order_number: str
    lines: list[ReturnLineRequest]
    now: datetime


class ClaimResult(BaseModel):
    order: Order
    policy: PolicySettings
    decision: Decision
    policy_version: int | None = None  # None in histories from before policy versions
    # What the order's other returns held when this one was claimed (domain.policy.others_value): the refund-review
    # threshold counts it, as decide() did the other limits. 0 in histories from before.
    others_value: int = 0


class LabelRequest(BaseModel):
    return_id: str
    direction: str  # inbound (shopper to warehouse) or outbound (exchange reship)
    ship_from: list[str] | None = None  # None: the warehouse
    ship_to: list[str] | None = None  # None: the warehouse
    # Routing and carrier APIs (all defaulted, so older histories' inputs still read):
    warehouse_id: str | None = None  # None: chosen by settings.routing from country and skus
    country: str = ""  # the shopper's country (ISO 3166 alpha-2)
    skus: list[str] = []  # SKUs of the returned lines
    shopper_address: Address | None = None  # structured, for carriers whose API needs it (EasyPost)
    shopper_email: str = ""
    parcel: int = 1  # this label is parcel `parcel` of `parcels`
    parcels: int = 1


class RefundInput(BaseModel):
    key: str
    return_id: str
    payment_reference: str
    amount: int
    currency: str


class RefundResult(BaseModel):
    key: str
    amount: int
    provider_refund_id: str


class CreditInput(BaseModel):
    key: str
    return_id: str
    email: str
    currency: str
    amount: int  # the bonus included
    bonus: int = 0  # of `amount`, written as an entry of its own
    expires_at: datetime | None = None
    code: str | None = None  # add to this code (the return's own) instead of making a new one


class CreditResult(BaseModel):
    code: str
    amount: int


class StockInput(BaseModel):
    key: str
    return_id: str
    sku: str
    quantity: int


class EmailItem(BaseModel):
    """One returned item as the shopper's e-mail shows it: words and a picture, never a SKU or a line id."""

    title: str
    quantity: int
    image_url: str | None = None  # the order line's picture; shown only from the brand's image origins
    exchange_title: str = ""  # what comes instead, for an exchange still to come or sent


class EmailInput(BaseModel):
    return_id: str
    kind: str
    to: str
    context: dict[str, object] = {}
    attach_label: str | None = None  # tracking number whose label PDF goes along
    attach_labels: list[str] = []  # more labels (the other parcels of a return)
    dedupe: str = ""  # for kinds sent more than once per return (a reissued label): part of the once-only key
    locale: str = ""  # the return's language (ReturnState.locale); "": the shop's default
    # The returned items, from what the workflow holds (its state and the claimed order): no database read per e-mail.
    items: list[EmailItem] = []


class ExchangeLine(BaseModel):
    line_id: str
    sku: str
    quantity: int


class ExchangeInput(BaseModel):
    return_id: str
    lines: list[ExchangeLine]
    ship_to: list[str]
    warehouse_id: str | None = None  # the return's warehouse, which the reship leaves from


class ExchangeResult(BaseModel):
    shipped: list[str]  # line ids that shipped
    out_of_stock: list[str]
    shipment: Shipment | None = None
