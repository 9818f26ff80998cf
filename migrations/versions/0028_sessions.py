"""Sessions, password reset by e-mail, temporary passwords, dormant accounts.

Revision ID: 0028_sessions
Revises: 0027_sso
Create Date: 2026-12-01

`users`: the last sign-in's address (last_login_ip), a temporary password that must be
changed at the next sign-in (must_change_password), when an administrator last re-enabled
the account (enabled_at) and when the dormancy warning of the current period was queued
(dormancy_warned_at). `password_reset_tokens`: one row per e-mailed reset link, holding
the SHA-256 of its token (never the token), its expiry and when it was used.
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_sessions"
down_revision = "0027_sso"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("dormancy_warned_at", sa.DateTime(), nullable=True))
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_reset_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reset_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_tokens_user_id"))
    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("dormancy_warned_at")
        batch_op.drop_column("enabled_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("last_login_ip")
