"""timeline codes: each entry of a return's timeline is a code and its parameters (issue 15); the words are made
at the edge per reader and language. `message` stays for entries written before codes ("" for coded ones).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("return_timeline", sa.Column("code", sa.String(length=60), server_default="", nullable=False))
    op.add_column(
        "return_timeline",
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
    )  # fmt: skip
    op.alter_column("return_timeline", "message", server_default="")


def downgrade() -> None:
    op.alter_column("return_timeline", "message", server_default=None)
    op.drop_column("return_timeline", "params")
    op.drop_column("return_timeline", "code")
