"""shopper photos: taken in the portal for a return line, metadata stripped, kept per order (issue 19); inventory
items may be final sale (never offered in exchange)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopper_photos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_number", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shopper_photos_order_number", "shopper_photos", ["order_number"])
    op.add_column("inventory", sa.Column("final_sale", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("inventory", "final_sale")
    op.drop_index("ix_shopper_photos_order_number", table_name="shopper_photos")
    op.drop_table("shopper_photos")
