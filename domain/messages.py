"""Inputs and outputs of workflows and activities: the contract between them, pure pydantic."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.models import Decision, Order, ReturnLineRequest, Shipment
from domain.policy import PolicySettings


class ReturnInput(BaseModel):
    return_id: str
    order_number: str


class SubmitRequest(BaseModel):
    lines: list[ReturnLineRequest]


class ClaimInput(BaseModel):
    return_id: str
    order_number: str
    lines: list[ReturnLineRequest]
    now: datetime


class ClaimResult(BaseModel):
    order: Order
    policy: PolicySettings
    decision: Decision


class LabelRequest(BaseModel):
    return_id: str
    direction: str  # inbound (shopper to warehouse) or outbound (exchange reship)
    ship_from: list[str] | None = None  # None: the warehouse
    ship_to: list[str] | None = None  # None: the warehouse


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
    amount: int


class CreditResult(BaseModel):
    code: str
    amount: int


class StockInput(BaseModel):
    key: str
    return_id: str
    sku: str
    quantity: int


class EmailInput(BaseModel):
    return_id: str
    kind: str
    to: str
    context: dict[str, object] = {}
    attach_label: str | None = None  # tracking number whose label PDF goes along


class ExchangeLine(BaseModel):
    line_id: str
    sku: str
    quantity: int


class ExchangeInput(BaseModel):
    return_id: str
    lines: list[ExchangeLine]
    ship_to: list[str]


class ExchangeResult(BaseModel):
    shipped: list[str]  # line ids that shipped
    out_of_stock: list[str]
    shipment: Shipment | None = None
