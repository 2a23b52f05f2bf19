"""staff accounts: people sign in with e-mail and password; one-time set/reset links; sessions of an account

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name="ck_staff_accounts_email_lower"),
        sa.CheckConstraint(
            "cardinality(roles) > 0 AND roles <@ ARRAY['admin', 'warehouse', 'finance']::varchar[]",
            name="ck_staff_accounts_roles",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "staff_account_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["staff_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_staff_account_tokens_account_id", "staff_account_tokens", ["account_id"])
    # A console session belongs to a token (as before) or to an account, never both.
    op.alter_column("staff_sessions", "token_id", existing_type=sa.Integer(), nullable=True)
    op.add_column("staff_sessions", sa.Column("account_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "staff_sessions_account_id_fkey", "staff_sessions", "staff_accounts", ["account_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index("ix_staff_sessions_account_id", "staff_sessions", ["account_id"])
    op.create_check_constraint(
        "ck_staff_sessions_one_owner", "staff_sessions", "num_nonnulls(token_id, account_id) = 1"
    )


def downgrade() -> None:
    op.execute("DELETE FROM staff_sessions WHERE token_id IS NULL")
    op.drop_constraint("ck_staff_sessions_one_owner", "staff_sessions", type_="check")
    op.drop_index("ix_staff_sessions_account_id", table_name="staff_sessions")
    op.drop_constraint("staff_sessions_account_id_fkey", "staff_sessions", type_="foreignkey")
    op.drop_column("staff_sessions", "account_id")
    op.alter_column("staff_sessions", "token_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_staff_account_tokens_account_id", table_name="staff_account_tokens")
    op.drop_table("staff_account_tokens")
    op.drop_table("staff_accounts")
