"""The organisation's time zone setting goes: Việt Nam has one time zone, and every local
date is computed in it (inspection/i18n.py LOCAL_TZ); an editable setting that nothing
read was a promise the code did not keep.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("org_settings") as batch:
        batch.drop_column("timezone")


def downgrade():
    with op.batch_alter_table("org_settings") as batch:
        batch.add_column(
            sa.Column(
                "timezone",
                sa.String(length=64),
                nullable=False,
                server_default="Asia/Ho_Chi_Minh",
            )
        )
