"""Single sign-on: the OpenID Connect identity linked to each account.

Revision ID: 0027_sso
Revises: 0026_mfa
Create Date: 2026-12-01

`sso_identities`: one row per (issuer, subject) an account signs in with, recorded at its
first sign-in through the provider (matched by verified e-mail); at most one per issuer
for an account.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_sso"
down_revision = "0026_mfa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("issuer <> '' AND subject <> ''", name=op.f("ck_sso_identities_not_empty")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_sso_identities_issuer_subject")),
        sa.UniqueConstraint("user_id", "issuer", name=op.f("uq_sso_identities_user_id_issuer")),
    )
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_identities_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_identities_user_id"))
    op.drop_table("sso_identities")
