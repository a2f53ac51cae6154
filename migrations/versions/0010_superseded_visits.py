"""A visit whose minutes a correction replaced is marked superseded and leaves the figures.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspection") as batch:
        batch.add_column(sa.Column("superseded_at", sa.DateTime(), nullable=True))
    op.execute(
        """
        UPDATE inspection SET superseded_at = (
            SELECT MIN(newer.created_at) FROM minutes newer
            JOIN minutes older ON newer.supersedes_id = older.id
            WHERE older.inspection_id = inspection.id
        )
        WHERE id IN (
            SELECT older.inspection_id FROM minutes older
            JOIN minutes newer ON newer.supersedes_id = older.id
        )
        """
    )
    # The per-visit figures count current visits only.
    for table in ("visit_category_stat", "visit_attendance_stat", "person_failure"):
        op.execute(
            f"DELETE FROM {table} WHERE inspection_id IN "
            "(SELECT id FROM inspection WHERE superseded_at IS NOT NULL)"
        )


def downgrade():
    with op.batch_alter_table("inspection") as batch:
        batch.drop_column("superseded_at")
