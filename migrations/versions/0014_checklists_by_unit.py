"""Checklists that fit each unit: several templates, each item or template limited to some
unit kinds or to units with a one-stop desk; items asked only after another answer; typed
answers (number, short text, one of a list); the versions a visit asked; a late person's
arrival time.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("unit") as batch:
        batch.add_column(
            sa.Column("has_one_stop", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("checklist_template") as batch:
        batch.add_column(
            sa.Column("name_en", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("applies_to", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("checklist_item") as batch:
        batch.add_column(
            sa.Column("applies_to", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("ask_when", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column(
                "answer_type",
                sa.Enum(
                    "outcome",
                    "number",
                    "text",
                    "choice",
                    name=op.f("ck_checklist_item_answer_type"),
                    native_enum=False,
                    create_constraint=True,
                    length=7,
                ),
                nullable=False,
                server_default="outcome",
            )
        )
        batch.add_column(sa.Column("choices", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("number_unit", sa.String(length=30), nullable=False, server_default="")
        )
    with op.batch_alter_table("inspection") as batch:
        batch.add_column(sa.Column("unit_kind", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("unit_one_stop", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("unit_item_result") as batch:
        batch.add_column(sa.Column("text_value", sa.Text(), nullable=True))
    with op.batch_alter_table("person_result") as batch:
        batch.add_column(sa.Column("arrived_at", sa.Time(), nullable=True))
    op.create_table(
        "visit_checklist",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("checklist_version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_version_id"],
            ["checklist_version.id"],
            name="fk_visit_checklist_checklist_version_id_checklist_version",
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name="fk_visit_checklist_inspection_id_inspection",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inspection_id", "checklist_version_id", name="pk_visit_checklist"),
    )
    # Every visit so far asked its one version, of a unit as it is now.
    op.execute(
        "INSERT INTO visit_checklist (inspection_id, checklist_version_id, position)"
        " SELECT id, checklist_version_id, 1 FROM inspection"
    )
    op.execute("UPDATE inspection SET unit_kind = (SELECT kind FROM unit WHERE unit.id = unit_id)")


def downgrade():
    op.drop_table("visit_checklist")
    with op.batch_alter_table("person_result") as batch:
        batch.drop_column("arrived_at")
    with op.batch_alter_table("unit_item_result") as batch:
        batch.drop_column("text_value")
    with op.batch_alter_table("inspection") as batch:
        batch.drop_column("unit_one_stop")
        batch.drop_column("unit_kind")
    with op.batch_alter_table("checklist_item") as batch:
        for name in ("number_unit", "choices", "answer_type", "ask_when", "applies_to"):
            batch.drop_column(name)
    with op.batch_alter_table("checklist_template") as batch:
        batch.drop_column("active")
        batch.drop_column("applies_to")
        batch.drop_column("name_en")
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("has_one_stop")
