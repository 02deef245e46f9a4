"""CSV synchronisation: cohorts, bindings, pictures, runs, locks, alarms, schedule;
users.password_hash, groups.startdate/visible, memberships.endtime/cohort_id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(255)))
    op.add_column("groups", sa.Column("startdate", sa.DateTime))
    op.add_column("groups", sa.Column("visible", sa.Boolean, nullable=False, server_default="1"))
    op.add_column("memberships", sa.Column("endtime", sa.DateTime))
    op.add_column("memberships", sa.Column("cohort_id", sa.Integer))
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idnumber", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "cohort_members",
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_cohort_members_user", "cohort_members", ["user_id"])
    op.create_table(
        "cohort_courses",
        sa.Column("cohort_id", sa.Integer, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("perfil", sa.String(20), sa.ForeignKey("profiles.code"), nullable=False),
    )
    op.create_table(
        "user_pictures",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("large_png", sa.LargeBinary, nullable=False),
        sa.Column("small_png", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.CheckConstraint("state IN ('running', 'applied', 'done', 'crashed')", name="ck_sync_runs_state"),
    )
    op.create_index("ix_sync_runs_kind_state", "sync_runs", ["kind", "state"])
    op.create_table(
        "sync_locks",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sync_alarms",
        sa.Column("lock_key", sa.String(255), primary_key=True),
        sa.Column("sent_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sync_schedule",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("last_run_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "sync_schedule",
        "sync_alarms",
        "sync_locks",
        "sync_runs",
        "user_pictures",
        "cohort_courses",
        "cohort_members",
        "cohorts",
    ):
        op.drop_table(table)
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("cohort_id")
        batch.drop_column("endtime")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("visible")
        batch.drop_column("startdate")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
