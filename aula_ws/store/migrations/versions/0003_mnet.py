"""MNET: our key pairs, registered peers, seen envelopes (replay protection),
and a covering index for reading a user's activity in time order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activity_log_user_time_course", "activity_log", ["user_id", "time", "group_id", "unit_id"])
    op.create_table(
        "mnet_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False, unique=True),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "mnet_peers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("wwwroot", sa.String(255), nullable=False, unique=True),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("cipher", sa.String(10), nullable=False, server_default="rc4"),
        sa.Column("trusted_ips", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("cipher IN ('rc4', 'aes')", name="ck_mnet_peers_cipher"),
    )
    op.create_table(
        "mnet_seen_envelopes",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_mnet_seen_envelopes_seen_at", "mnet_seen_envelopes", ["seen_at"])


def downgrade() -> None:
    op.drop_table("mnet_seen_envelopes")
    op.drop_table("mnet_peers")
    op.drop_table("mnet_keys")
    op.drop_index("ix_activity_log_user_time_course", table_name="activity_log")
