"""label validity, parcels, stuck parcels: the parcel number of each label, and returns staff must look at

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("parcel", sa.Integer(), server_default="1", nullable=False))
    op.add_column("returns", sa.Column("attention", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_returns_attention", "returns", ["attention"])


def downgrade() -> None:
    op.drop_index("ix_returns_attention", table_name="returns")
    op.drop_column("returns", "attention")
    op.drop_column("shipments", "parcel")
