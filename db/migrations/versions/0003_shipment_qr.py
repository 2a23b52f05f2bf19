"""the return id's QR code beside each label, for the portal's screen

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("qr_svg", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "qr_svg")
