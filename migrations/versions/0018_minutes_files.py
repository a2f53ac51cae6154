"""Every file the minutes have been: the one issued and each long-term extension.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 02:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "minutes_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("timestamp_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["minutes_id"], ["minutes.id"], name=op.f("fk_minutes_file_minutes_id_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blob.sha256"], name=op.f("fk_minutes_file_sha256_blob")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_file")),
        sa.UniqueConstraint("sha256", name=op.f("uq_minutes_file_sha256")),
    )
    op.create_index("ix_minutes_file_minutes_id", "minutes_file", ["minutes_id"])
    # The file each issued minutes has now; its level is read by `minutes extend-ltv`.
    op.execute(
        "INSERT INTO minutes_file (minutes_id, sha256, added_at)"
        " SELECT id, pdf_sha256, created_at FROM minutes ORDER BY id"
    )


def downgrade():
    op.drop_index("ix_minutes_file_minutes_id", table_name="minutes_file")
    op.drop_table("minutes_file")
