"""Webhooks, a log of every delivery attempt, and each account's email language and opt-outs.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 19:02:32

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.String(length=400), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_webhook_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_delivery_attempt_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempt")),
    )
    op.create_index("ix_delivery_attempt_outbox_id", "delivery_attempt", ["outbox_id"])
    # Rebuilt on SQLite with AUTOINCREMENT: a message's id is never given to another.
    with op.batch_alter_table(
        "outbox", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum(
                    "email",
                    "webhook",
                    name=op.f("ck_outbox_channel"),
                    native_enum=False,
                    create_constraint=True,
                    length=7,
                ),
                nullable=False,
                server_default="email",
            )
        )
        batch_op.add_column(sa.Column("webhook_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=160), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.alter_column(
            "address",
            existing_type=sa.String(length=254),
            type_=sa.String(length=2000),
            existing_nullable=False,
        )
        batch_op.create_index("ix_outbox_webhook_id", ["webhook_id"])
        batch_op.create_unique_constraint("uq_outbox_dedupe_key", ["dedupe_key"])
        batch_op.create_foreign_key(
            "fk_outbox_webhook_id_webhook", "webhook", ["webhook_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), server_default="vi", nullable=False)
        )
        batch_op.add_column(
            sa.Column("mail_off", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("mail_off")
        batch_op.drop_column("language")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint("fk_outbox_webhook_id_webhook", type_="foreignkey")
        batch_op.drop_constraint("uq_outbox_dedupe_key", type_="unique")
        batch_op.drop_index("ix_outbox_webhook_id")
        batch_op.alter_column(
            "address",
            existing_type=sa.String(length=2000),
            type_=sa.String(length=254),
            existing_nullable=False,
        )
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("webhook_id")
        batch_op.drop_column("channel")
    op.drop_index("ix_delivery_attempt_outbox_id", table_name="delivery_attempt")
    op.drop_table("delivery_attempt")
    op.drop_table("webhook")
