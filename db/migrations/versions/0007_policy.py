"""policy documents and versions: the policy in force is the highest version; returns record theirs

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.add_column("returns", sa.Column("policy_version", sa.Integer(), nullable=True))
    # The serial-returner rule counts a shopper's recent returns.
    op.create_index("ix_returns_email_created", "returns", ["email", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_returns_email_created", table_name="returns")
    op.drop_column("returns", "policy_version")
    op.drop_table("policy_versions")
