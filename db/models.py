"""SQLAlchemy 2 models: orders, inventory, tokens, the return read model and the money ledgers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB, datetime: DateTime(timezone=True)}


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class InventoryItem(Base):
    __tablename__ = "inventory"
    sku: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    available: Mapped[int] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(100), index=True)  # variants of one product share it
    options: Mapped[dict[str, Any]] = mapped_column(server_default="{}")  # {"size": "M", "colour": "blue"}
    image_url: Mapped[str | None] = mapped_column(Text)
    final_sale: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # never offered in exchange
    updated_at: Mapped[datetime] = _now()


class OrderRow(Base):
    __tablename__ = "orders"
    number: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    data: Mapped[dict[str, Any]]  # the whole domain.models.Order
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class StaffToken(Base):
    __tablename__ = "staff_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None]


class StaffSession(Base):
    """A staff console sign-in. The cookie carries a random id, kept here only as its hash, and never the token:
    the session dies at sign-out, at expiry, or when its token is revoked (the join on staff_tokens).
    Opened either with a token or with an account's password (migration 0010): exactly one of the two is set, and an
    account's sessions die when it is disabled (the join on staff_accounts)."""

    __tablename__ = "staff_sessions"
    __table_args__ = (CheckConstraint("num_nonnulls(token_id, account_id) = 1", name="ck_staff_sessions_one_owner"),)
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("staff_tokens.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = _now()


class PortalSession(Base):
    __tablename__ = "portal_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(200), ForeignKey("orders.number"))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = _now()


class ReturnRow(Base):
    """Read model of one return, written by the workflow's activities at every transition."""

    __tablename__ = "returns"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(200), ForeignKey("orders.number"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    refund_total: Mapped[int] = mapped_column(BigInteger, default=0)
    store_credit_total: Mapped[int] = mapped_column(BigInteger, default=0)
    fees_total: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[dict[str, Any]]  # domain.models.ReturnState as JSON
    version: Mapped[int] = mapped_column(Integer, default=0)
    policy_version: Mapped[int | None] = mapped_column(Integer)  # the policy version it was decided under
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Staff must look at it (the Exceptions queue): a parcel stopped moving or the carrier reported a problem.
    attention: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)


class ShipmentRow(Base):
    __tablename__ = "shipments"
    tracking_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    direction: Mapped[Literal["inbound", "outbound"]] = mapped_column(String(10))
    carrier: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    label_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    qr_svg: Mapped[bytes | None] = mapped_column(LargeBinary)  # the return id's QR, for the portal's screen
    created_at: Mapped[datetime] = _now()
    voided_at: Mapped[datetime | None]
    # Carrier adapters (migration 0005): null for labels made before warehouses and carrier APIs existed.
    warehouse_id: Mapped[str | None] = mapped_column(String(40))
    provider_shipment_id: Mapped[str | None] = mapped_column(String(64))  # what a void refunds at the carrier
    label_url: Mapped[str | None] = mapped_column(Text)  # the carrier's own label file, when it hosts one
    service: Mapped[str | None] = mapped_column(String(80))
    parcel: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # n of a multi-parcel return
    # What the label was drawn from (labels.LabelData as JSON, migration 0004), so it can be drawn again in
    # another format (A4, ZPL); null for old rows and for labels a carrier API made.
    label_data: Mapped[dict[str, Any] | None]


class CarrierPurchase(Base):
    """A label being bought from a carrier API: its shipment id is kept before paying, so a retry resumes it."""

    __tablename__ = "carrier_purchases"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # <return id>:<direction>
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    warehouse_id: Mapped[str] = mapped_column(String(40))
    provider_shipment_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()


class TimelineRow(Base):
    __tablename__ = "return_timeline"
    return_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30))
    # What happened as a code and its parameters (domain.models.TimelineEntry); `message` only for older entries.
    code: Mapped[str] = mapped_column(String(60), server_default="")
    params: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    message: Mapped[str] = mapped_column(Text, server_default="")


class RefundRow(Base):
    """One refund per deterministic key; written before Stripe is called, completed after."""

    __tablename__ = "refunds"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    payment_reference: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # pending, succeeded, failed
    provider_refund_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    completed_at: Mapped[datetime | None]


class StoreCredit(Base):
    __tablename__ = "store_credits"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _now()


class StoreCreditEntry(Base):
    __tablename__ = "store_credit_entries"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), ForeignKey("store_credits.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # grant, bonus, redeem
    amount: Mapped[int] = mapped_column(BigInteger)  # signed: redemptions are negative
    return_id: Mapped[str | None] = mapped_column(String(40))
    order_reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()


class Reservation(Base):
    __tablename__ = "stock_reservations"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    sku: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # reserved, shipped, released
    created_at: Mapped[datetime] = _now()


class CarrierEventRow(Base):
    __tablename__ = "carrier_events"
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime]
    matched: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = _now()


class SentEmail(Base):
    """One row per e-mail kind and return, so a retried activity never sends twice."""

    __tablename__ = "sent_emails"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _now()


Index("ix_returns_status_updated", ReturnRow.status, ReturnRow.updated_at)


class ReturnClaim(Base):
    """The quantity of an order line a return holds; the order row is locked while claims are made."""

    __tablename__ = "return_claims"
    return_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    order_number: Mapped[str] = mapped_column(String(200), ForeignKey("orders.number"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    released: Mapped[bool] = mapped_column(Boolean, default=False)


class PortalFailure(Base):
    """A failed portal sign-in, by client address and by order number, for rate limiting."""

    __tablename__ = "portal_failures"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = _now()


Index("ix_portal_failures_key_at", PortalFailure.key, PortalFailure.at)


class ExchangePayment(Base):
    """An exchange's charge (a higher price's difference) or an instant exchange's card hold, one per key.

    Written before Stripe is asked, completed after: the payment peer may ignore idempotency keys."""

    __tablename__ = "exchange_payments"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    return_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # charge, hold
    payment_reference: Mapped[str] = mapped_column(String(200))  # the order's PaymentIntent
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # pending, succeeded, held, captured, released, expired, failed
    provider_intent_id: Mapped[str | None] = mapped_column(String(200))
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = _now()
    completed_at: Mapped[datetime | None]


class PolicyVersion(Base):
    """One version of the return policy document; the highest is in force. Returns record the one they used."""

    __tablename__ = "policy_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]  # domain.policy.PolicySettings as JSON
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()


Index("ix_returns_email_created", ReturnRow.email, ReturnRow.created_at)  # the serial-returner rule


class StaffAccount(Base):
    """A person who signs in to the consoles with e-mail and password (api.staff_accounts); API tokens stay for
    the shop's systems. `failed` counts wrong passwords since the last success or lockout."""

    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="ck_staff_accounts_email_lower"),
        CheckConstraint("cardinality(roles) > 0 AND roles <@ ARRAY['admin', 'warehouse', 'finance']::varchar[]",
                        name="ck_staff_accounts_roles"),
    )  # fmt: skip
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id, PHC string; None until set
    disabled_at: Mapped[datetime | None]
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = _now()


class StaffAccountToken(Base):
    """A one-time link to set (invite) or reset an account's password; only its SHA-256 is kept."""

    __tablename__ = "staff_account_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # invite, reset
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _now()


class InspectionPhoto(Base):
    """A photo the warehouse took of an inspected line (issue 18), re-encoded without its metadata (api.photos).
    Uploaded before the inspection that names it; served to staff only."""

    __tablename__ = "inspection_photos"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # 32 hex digits, random
    return_id: Mapped[str] = mapped_column(String(40), ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(20))  # image/jpeg, image/png or image/webp
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()


class ShopperPhoto(Base):
    """A photo a shopper took in the portal for a line they return (issue 19), re-encoded without its metadata
    (api.photos). Kept per order: only a return of that order may name it, and only staff read it back."""

    __tablename__ = "shopper_photos"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # 32 hex digits, random
    order_number: Mapped[str] = mapped_column(String(200), ForeignKey("orders.number", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _now()
