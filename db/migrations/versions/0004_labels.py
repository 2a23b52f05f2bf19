"""what each label was drawn from, so it can be drawn again as A4 or ZPL

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("label_data", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "label_data")
