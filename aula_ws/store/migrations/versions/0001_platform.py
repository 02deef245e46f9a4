"""The platform of CONTRACT.md section 1: users, profiles, groups, units,
memberships, lesson sessions, course statuses and the activity log; the
seeded profiles and the special user _anonimo.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOGIN = sa.String(100).with_variant(sa.String(100, collation="C"), "postgresql")
SEEDED_PROFILES = [
    {"code": "A", "name": "alumno"},
    {"code": "D", "name": "docente"},
    {"code": "T", "name": "tutor"},
    {"code": "C", "name": "coordinador"},
    {"code": "I", "name": "invitado"},
]


def upgrade() -> None:
    users = op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", LOGIN, nullable=False, unique=True),
        sa.Column("firstname", sa.String(100), nullable=False, server_default=""),
        sa.Column("lastname", sa.String(100), nullable=False, server_default=""),
        sa.Column("email", sa.String(255), nullable=False, server_default=""),
        sa.Column("idnumber", sa.String(255), nullable=False, server_default=""),
        sa.Column("suspended", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("site_admin", sa.Boolean, nullable=False, server_default="0"),
    )
    profiles = op.create_table(
        "profiles",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shortname", sa.String(255), nullable=False, unique=True),
        sa.Column("fullname", sa.String(255), nullable=False, server_default=""),
        sa.Column("idnumber", sa.String(255), nullable=False, server_default=""),
        sa.Column("tracks_progress", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("type", sa.String(1), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("group_id", "code", name="uq_units_group_code"),
        sa.CheckConstraint("type IN ('A', 'L', 'W', 'T', 'E')", name="ck_units_type"),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("perfil", sa.String(20), sa.ForeignKey("profiles.code"), nullable=False),
        sa.Column("administrador_grupo", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("responsable_grupo", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("estado", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("fecha_alta", sa.Date, nullable=False),
    )
    op.create_index("ix_memberships_group_perfil", "memberships", ["group_id", "perfil"])
    op.create_table(
        "lesson_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(1), nullable=False),
        sa.Column("status_date", sa.DateTime, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("time_spent", sa.Integer),
        sa.Column("ilt_present", sa.Boolean),
        sa.CheckConstraint("status IN ('C', 'P', 'F', 'I', 'N')", name="ck_lesson_sessions_status"),
    )
    op.create_index(
        "ix_lesson_sessions_unit_user",
        "lesson_sessions",
        ["unit_id", "user_id", "status", "status_date"],
    )
    op.create_index(
        "ix_lesson_sessions_user_unit",
        "lesson_sessions",
        ["user_id", "unit_id", "status", "status_date"],
    )
    op.create_table(
        "course_statuses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(1), nullable=False),
        sa.Column("status_date", sa.DateTime, nullable=False),
        sa.CheckConstraint("status IN ('N', 'I', 'C')", name="ck_course_statuses_status"),
    )
    op.create_index(
        "ix_course_statuses_group_user",
        "course_statuses",
        ["group_id", "user_id", "status", "status_date"],
    )
    op.create_table(
        "activity_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id", ondelete="CASCADE")),
        sa.Column("time", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(100), nullable=False, server_default=""),
    )
    op.create_index("ix_activity_log_group_user_time", "activity_log", ["group_id", "user_id", "time"])
    op.create_index("ix_activity_log_user_time", "activity_log", ["user_id", "time"])

    op.bulk_insert(profiles, SEEDED_PROFILES)
    op.bulk_insert(users, [{"username": "_anonimo", "firstname": "Anónimo", "suspended": False}])


def downgrade() -> None:
    for table in (
        "activity_log",
        "course_statuses",
        "lesson_sessions",
        "memberships",
        "units",
        "groups",
        "profiles",
        "users",
    ):
        op.drop_table(table)
