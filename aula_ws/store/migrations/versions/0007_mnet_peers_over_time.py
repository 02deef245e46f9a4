"""MNET with real peers over time: users' home host, peers' certificate history, per-peer services,
and the activity log's action in use_stats' covering index (the engine reads it).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("mnethost", sa.String(255)))
    op.create_table(
        "mnet_peer_certificates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("mnet_peers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_mnet_peer_certificates_peer", "mnet_peer_certificates", ["peer_id", "replaced_at"])
    op.create_table(
        "mnet_peer_services",
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("mnet_peers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("service", sa.String(50), primary_key=True),
        sa.Column("publish", sa.Boolean, nullable=False),
        sa.Column("subscribe", sa.Boolean, nullable=False),
    )
    op.drop_index("ix_activity_log_user_time_course", table_name="activity_log")
    op.create_index(
        "ix_activity_log_user_time_course", "activity_log", ["user_id", "time", "group_id", "unit_id", "action"]
    )
    # peers registered before per-peer services could call use_stats and be called: they keep that
    op.execute(
        "INSERT INTO mnet_peer_services (peer_id, service, publish, subscribe) "
        "SELECT id, 'use_stats', TRUE, TRUE FROM mnet_peers"
    )


def downgrade() -> None:
    op.drop_index("ix_activity_log_user_time_course", table_name="activity_log")
    op.create_index("ix_activity_log_user_time_course", "activity_log", ["user_id", "time", "group_id", "unit_id"])
    op.drop_table("mnet_peer_services")
    op.drop_index("ix_mnet_peer_certificates_peer", table_name="mnet_peer_certificates")
    op.drop_table("mnet_peer_certificates")
    op.drop_column("users", "mnethost")
