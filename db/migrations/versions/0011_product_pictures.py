"""product pictures: inventory items gain product (grouping variants), options and image_url

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inventory", sa.Column("product", sa.String(length=100), nullable=True))
    op.add_column(
        "inventory",
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("inventory", sa.Column("image_url", sa.Text(), nullable=True))
    op.create_index("ix_inventory_product", "inventory", ["product"])


def downgrade() -> None:
    op.drop_index("ix_inventory_product", table_name="inventory")
    op.drop_column("inventory", "image_url")
    op.drop_column("inventory", "options")
    op.drop_column("inventory", "product")
