"""The maintained progress (issue 15): per (user, unit) and per (user, group) facts, filled from
the statistics tables (the same statement as `aula-ws progress rebuild`).

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_progress",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("first_session", sa.DateTime, nullable=False),
        sa.Column("first_done", sa.DateTime),
    )
    op.create_index("ix_unit_progress_group_user", "unit_progress", ["group_id", "user_id", "first_done"])
    op.create_table(
        "member_progress",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("units_done", sa.Integer, nullable=False),
        sa.Column("last_done", sa.DateTime),
        sa.Column("first_interaction", sa.DateTime),
        sa.Column("first_course_completion", sa.DateTime),
    )
    from aula_ws.store.progress import refresh

    refresh(op.get_bind())


def downgrade() -> None:
    op.drop_table("member_progress")
    op.drop_index("ix_unit_progress_group_user", table_name="unit_progress")
    op.drop_table("unit_progress")
