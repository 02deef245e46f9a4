"""tool_sync drop-in: groups inside courses, users' auth and profile fields, users found by idnumber
or e-mail (indexes), cohorts without idnumber, bindings' enrolment window and makegroup.

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


@contextmanager
def _cohort_links_kept() -> Iterator[None]:
    """SQLite changes a column by copying the table and dropping the old one; with foreign keys
    on, the drop deletes cohort_members and cohort_courses rows (ON DELETE CASCADE). They are
    read before and written back after (the cohorts keep their ids)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    members = bind.execute(sa.text("SELECT cohort_id, user_id FROM cohort_members")).all()
    bindings = bind.execute(sa.text("SELECT cohort_id, group_id, perfil FROM cohort_courses")).all()
    yield
    bind.execute(sa.text("DELETE FROM cohort_members"))
    bind.execute(sa.text("DELETE FROM cohort_courses"))
    if members:
        bind.execute(
            sa.text("INSERT INTO cohort_members (cohort_id, user_id) VALUES (:c, :u)"),
            [dict(c=c, u=u) for c, u in members],
        )
    if bindings:
        bind.execute(
            sa.text("INSERT INTO cohort_courses (cohort_id, group_id, perfil) VALUES (:c, :g, :p)"),
            [dict(c=c, g=g, p=p) for c, g, p in bindings],
        )


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("auth", sa.String(20), nullable=False, server_default="manual"))
    op.create_index("ix_users_idnumber", "users", ["idnumber"])
    op.create_index("ix_users_email", "users", ["email"])
    with _cohort_links_kept(), op.batch_alter_table("cohorts") as batch:
        batch.alter_column("idnumber", existing_type=sa.String(100), nullable=True)
    with op.batch_alter_table("cohort_courses") as batch:
        batch.add_column(sa.Column("enrolstart", sa.DateTime))
        batch.add_column(sa.Column("enrolend", sa.DateTime))
        batch.add_column(sa.Column("makegroup", sa.Boolean, nullable=False, server_default="0"))
    op.create_table(
        "user_profile_fields",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "course_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("group_id", "name", name="uq_course_groups_group_name"),
    )
    op.create_table(
        "course_group_members",
        sa.Column(
            "course_group_id", sa.Integer, sa.ForeignKey("course_groups.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("protected", sa.Boolean, nullable=False, server_default="0"),
    )
    op.create_index("ix_course_group_members_user", "course_group_members", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_course_group_members_user", "course_group_members")
    op.drop_table("course_group_members")
    op.drop_table("course_groups")
    op.drop_table("user_profile_fields")
    with op.batch_alter_table("cohort_courses") as batch:
        batch.drop_column("makegroup")
        batch.drop_column("enrolend")
        batch.drop_column("enrolstart")
    with _cohort_links_kept(), op.batch_alter_table("cohorts") as batch:
        batch.alter_column("idnumber", existing_type=sa.String(100), nullable=False)
    op.drop_index("ix_users_email", "users")
    op.drop_index("ix_users_idnumber", "users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("auth")
