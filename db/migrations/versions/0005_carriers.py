"""carrier adapters and warehouses: provider ids on shipments, the purchase journal

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("warehouse_id", sa.String(length=40), nullable=True))
    op.add_column("shipments", sa.Column("provider_shipment_id", sa.String(length=64), nullable=True))
    op.add_column("shipments", sa.Column("label_url", sa.Text(), nullable=True))
    op.add_column("shipments", sa.Column("service", sa.String(length=80), nullable=True))
    op.create_table(
        "carrier_purchases",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("provider_shipment_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_carrier_purchases_return_id"), "carrier_purchases", ["return_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_carrier_purchases_return_id"), table_name="carrier_purchases")
    op.drop_table("carrier_purchases")
    for column in ("service", "label_url", "provider_shipment_id", "warehouse_id"):
        op.drop_column("shipments", column)
