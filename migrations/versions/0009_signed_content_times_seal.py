"""Signatures bound to the content they were given on, the visit's end time, number
bounds on checklist items, and the organisation's seal image.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signature") as batch:
        batch.add_column(sa.Column("content_version", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("content_digest", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("inspection") as batch:
        batch.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("checklist_item") as batch:
        batch.add_column(sa.Column("number_min", sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column("number_max", sa.Numeric(12, 2), nullable=True))
    with op.batch_alter_table("org_settings") as batch:
        batch.add_column(sa.Column("seal_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("seal_diameter_mm", sa.Numeric(4, 1), nullable=True))
        batch.create_foreign_key(
            "fk_org_settings_seal_sha256_blob", "blob", ["seal_sha256"], ["sha256"]
        )
    # The one-stop on-time rate is a percentage: it was always meant to lie in 0..100.
    op.execute(
        "UPDATE checklist_item SET number_min = 0, number_max = 100 WHERE code = 'OSS-OVERDUE'"
    )
    # Visits issued before this release ended when their minutes were issued.
    op.execute("UPDATE inspection SET ended_at = finished_at WHERE finished_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("org_settings") as batch:
        batch.drop_constraint("fk_org_settings_seal_sha256_blob", type_="foreignkey")
        batch.drop_column("seal_diameter_mm")
        batch.drop_column("seal_sha256")
    with op.batch_alter_table("checklist_item") as batch:
        batch.drop_column("number_max")
        batch.drop_column("number_min")
    with op.batch_alter_table("inspection") as batch:
        batch.drop_column("ended_at")
    with op.batch_alter_table("signature") as batch:
        batch.drop_column("content_digest")
        batch.drop_column("content_version")
