"""Search: acronyms, and responsible officials in the documents.

Revision ID: 0010_search_acronyms
Revises: 0009_attachment_component
Create Date: 2026-11-23

`acronyms` pairs a short form with what it stands for ("HSIN", "Homeland Security
Information Network"); a search for either finds both (app/search/thesaurus.py). It
starts with the acronyms the seed reports spell out; administrators keep it from there.
Recommendation documents now carry each component's responsible official: the
documents of recommendations that name one are rewritten here (and back on downgrade),
the same way app/search/index.py writes them.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010_search_acronyms"
down_revision = "0009_attachment_component"
branch_labels = None
depends_on = None


# Spelled out in the reports RecTrack was seeded with (OIG-12-15, OIG-24-xx).
INITIAL = (
    ("CPG", "Comprehensive Preparedness Guide"),
    ("EOC", "Emergency Operations Center"),
    ("HSIN", "Homeland Security Information Network"),
    ("OIG", "Office of Inspector General"),
)


def upgrade() -> None:
    table = op.create_table(
        "acronyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("acronym", sa.String(length=40), nullable=False),
        sa.Column("expansion", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("acronym <> ''", name=op.f("ck_acronyms_acronym_not_empty")),
        sa.CheckConstraint("expansion <> ''", name=op.f("ck_acronyms_expansion_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acronyms")),
        sa.UniqueConstraint("acronym", name=op.f("uq_acronyms_acronym")),
    )
    op.bulk_insert(table, [{"acronym": a, "expansion": e} for a, e in INITIAL])
    _rewrite_bodies(with_officials=True)


def downgrade() -> None:
    _rewrite_bodies(with_officials=False)
    op.drop_table("acronyms")


def _rewrite_bodies(*, with_officials: bool) -> None:
    """Rebuild the body of each recommendation document whose addressees name a
    responsible official: the text, then per addressee its component, response, plan,
    (official,) closure justification, then the notes of updates and closure requests."""
    conn = op.get_bind()
    rec_ids = [
        r
        for (r,) in conn.execute(
            sa.text("SELECT DISTINCT recommendation_id FROM addressees WHERE responsible_official <> ''")
        )
    ]
    if not rec_ids:
        return
    wanted = sa.bindparam("ids", expanding=True)
    extra: dict[int, list[str]] = defaultdict(list)
    parts = conn.execute(
        sa.text(
            "SELECT a.recommendation_id, c.abbreviation, a.response, a.corrective_action_plan, "
            "a.responsible_official, a.closure_justification FROM addressees a "
            "JOIN components c ON c.id = a.component_id WHERE a.recommendation_id IN :ids ORDER BY a.id"
        ).bindparams(wanted),
        {"ids": rec_ids},
    )
    for rec_id, abbreviation, response, plan, official, justification in parts:
        extra[rec_id].append(abbreviation)
        texts = (
            (response, plan, official, justification) if with_officials else (response, plan, justification)
        )
        extra[rec_id].extend(t for t in texts if t)
    notes = conn.execute(
        sa.text(
            "SELECT recommendation_id, note FROM recommendation_events WHERE recommendation_id IN :ids "
            "AND kind IN ('update_posted', 'closure_requested') AND note <> '' ORDER BY id"
        ).bindparams(wanted),
        {"ids": rec_ids},
    )
    for rec_id, note in notes:
        extra[rec_id].append(note)
    texts = conn.execute(
        sa.text("SELECT id, text FROM recommendations WHERE id IN :ids").bindparams(wanted), {"ids": rec_ids}
    )
    for rec_id, text in texts:
        conn.execute(
            sa.text(
                "UPDATE search_documents SET body = :body WHERE kind = 'recommendation' AND ref_id = :id"
            ),
            {"body": "\n".join([text, *extra.get(rec_id, [])]), "id": rec_id},
        )
