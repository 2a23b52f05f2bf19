"""inspection photos: up to 3 per inspected line, metadata stripped, served to staff only (issue 18)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_photos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspection_photos_return_id", "inspection_photos", ["return_id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_photos_return_id", table_name="inspection_photos")
    op.drop_table("inspection_photos")
