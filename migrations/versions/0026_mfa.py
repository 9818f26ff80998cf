"""Second factors: WebAuthn keys and passkeys, TOTP apps, recovery codes.

Revision ID: 0026_mfa
Revises: 0025_open_data
Create Date: 2026-12-01

`mfa_factors`: one row per named factor of an account (a WebAuthn credential with its
public key and signature counter, or a TOTP secret with the last time step accepted).
`mfa_recovery_codes`: the SHA-256 of each single-use recovery code, and when it was used.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_mfa"
down_revision = "0025_open_data"
branch_labels = None
depends_on = None

KINDS = ("webauthn", "totp")


def upgrade() -> None:
    op.create_table(
        "mfa_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="factor_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("credential_id", sa.LargeBinary(length=1024), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=2048), nullable=True),
        sa.Column("sign_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("discoverable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("name <> ''", name=op.f("ck_mfa_factors_name_not_empty")),
        sa.CheckConstraint(
            "(kind = 'webauthn' AND credential_id IS NOT NULL AND public_key IS NOT NULL"
            " AND totp_secret IS NULL) OR (kind = 'totp' AND totp_secret IS NOT NULL"
            " AND credential_id IS NULL)",
            name=op.f("ck_mfa_factors_kind_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_factors_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_factors")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_mfa_factors_credential_id")),
    )
    with op.batch_alter_table("mfa_factors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mfa_factors_user_id"), ["user_id"], unique=False)
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_mfa_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("mfa_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mfa_recovery_codes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mfa_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mfa_recovery_codes_user_id"))
    op.drop_table("mfa_recovery_codes")
    with op.batch_alter_table("mfa_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mfa_factors_user_id"))
    op.drop_table("mfa_factors")
