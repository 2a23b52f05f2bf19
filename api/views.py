"""The public shape of a return (v1 contract), built from the read model's stored state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.models import ReturnState


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


class ShipmentView(BaseModel):
    direction: str
    carrier: str
    tracking_number: str
    label_url: str
    status: str


class TimelineView(BaseModel):
    at: datetime
    status: str
    message: str


class ReturnView(BaseModel):
    id: str
    order_number: str
    status: str
    lines: list[ReturnLineView]
    shipments: list[ShipmentView]
    amounts: Amounts
    timeline: list[TimelineView]
    decision_reasons: list[str]
    store_credit_code: str | None
    created_at: datetime
    updated_at: datetime
    workflow_url: str | None = None


class DecisionView(BaseModel):
    approved: bool
    reasons: list[str]


class CreatedReturn(ReturnView):
    decision: DecisionView


def return_view(state: ReturnState | dict[str, Any], workflow_url: str | None = None) -> ReturnView:
    st = state if isinstance(state, ReturnState) else ReturnState.model_validate(state)
    lines = []
    for line in st.lines:
        d = line.decision
        refund = line.refunded if st.status == "completed" else d.refund
        credit = line.credited if st.status == "completed" else d.store_credit
        lines.append(ReturnLineView(line_id=d.line_id, sku=d.sku, title=d.title, quantity=d.quantity,
                                    unit_price=d.unit_price, reason=d.reason, resolution=d.resolution,
                                    exchange_sku=d.exchange_sku, refund=refund, store_credit=credit, fee=d.fee,
                                    accepted_quantity=line.accepted_quantity, condition=line.condition,
                                    restock=line.restock, note=line.note,
                                    exchanged_quantity=line.exchanged_quantity))  # fmt: skip
    return ReturnView(
        id=st.id, order_number=st.order_number, status=st.status, lines=lines,
        shipments=[ShipmentView(**s.model_dump()) for s in st.shipments],
        amounts=Amounts(currency=st.currency, refund_total=st.refund_total,
                        store_credit_total=st.store_credit_total, fees_total=st.fees_total),
        timeline=[TimelineView(at=t.at, status=t.status, message=t.message) for t in st.timeline],
        decision_reasons=st.decision_reasons, store_credit_code=st.store_credit_code,
        created_at=st.created_at, updated_at=st.updated_at, workflow_url=workflow_url,
    )  # fmt: skip
