"""exchange charges and instant-exchange holds: a ledger beside the refunds

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_payments",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("payment_reference", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_intent_id", sa.String(length=200), nullable=True),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_exchange_payments_return_id"), "exchange_payments", ["return_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_exchange_payments_return_id"), table_name="exchange_payments")
    op.drop_table("exchange_payments")
