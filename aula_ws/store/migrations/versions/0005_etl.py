"""ETL extraction: instances with their lease, marks per query, reading-order indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "etl_instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plugin", sa.String(20), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("lease_owner", sa.String(32)),
        sa.Column("lease_until", sa.DateTime),
        sa.CheckConstraint("plugin IN ('boardz', 'progress')", name="ck_etl_instances_plugin"),
    )
    op.create_table(
        "etl_marks",
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("etl_instances.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("query", sa.String(50), primary_key=True),
        sa.Column("delivered_time", sa.DateTime),
        sa.Column("delivered_key", sa.String(255)),
        sa.Column("acked_time", sa.DateTime),
        sa.Column("acked_key", sa.String(255)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_activity_log_time_id", "activity_log", ["time", "id"])
    op.create_index("ix_lesson_sessions_status_date_id", "lesson_sessions", ["status_date", "id"])
    op.create_index("ix_memberships_fecha_alta_group_user", "memberships", ["fecha_alta", "group_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_memberships_fecha_alta_group_user", "memberships")
    op.drop_index("ix_lesson_sessions_status_date_id", "lesson_sessions")
    op.drop_index("ix_activity_log_time_id", "activity_log")
    op.drop_table("etl_marks")
    op.drop_table("etl_instances")
