"""Photos carry the phone's client_id: an upload retried after a lost answer is stored once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_photo_inspection_client", ["inspection_id", "client_id"]
        )


def downgrade():
    with op.batch_alter_table("photo") as batch:
        batch.drop_constraint("uq_photo_inspection_client", type_="unique")
        batch.drop_column("client_id")
