"""The tables of CONTRACT.md section 1 (SQLAlchemy Core). Times are naive UTC."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Logins sort in code-point order on every database: PostgreSQL's "C" collation
# is byte order, as SQLite's default BINARY is.
Login = String(100).with_variant(String(100, collation="C"), "postgresql")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Login, nullable=False, unique=True),
    Column("firstname", String(100), nullable=False, server_default=""),
    Column("lastname", String(100), nullable=False, server_default=""),
    Column("email", String(255), nullable=False, server_default=""),
    Column("idnumber", String(255), nullable=False, server_default=""),
    Column("suspended", Boolean, nullable=False, server_default="0"),
    Column("site_admin", Boolean, nullable=False, server_default="0"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(100), nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shortname", String(255), nullable=False, unique=True),
    Column("fullname", String(255), nullable=False, server_default=""),
    Column("idnumber", String(255), nullable=False, server_default=""),
    Column("tracks_progress", Boolean, nullable=False, server_default="1"),
    Column("created_at", DateTime, nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(255), nullable=False),
    Column("name", String(255), nullable=False, server_default=""),
    Column("type", String(1), nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    UniqueConstraint("group_id", "code", name="uq_units_group_code"),
    CheckConstraint("type IN ('A', 'L', 'W', 'T', 'E')", name="ck_units_type"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("perfil", String(20), ForeignKey("profiles.code"), nullable=False),
    Column("administrador_grupo", Boolean, nullable=False, server_default="0"),
    Column("responsable_grupo", Boolean, nullable=False, server_default="0"),
    Column("estado", Boolean, nullable=False, server_default="1"),
    Column("fecha_alta", Date, nullable=False),
    Index("ix_memberships_group_perfil", "group_id", "perfil"),
)

lesson_sessions = Table(
    "lesson_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(1), nullable=False),
    Column("status_date", DateTime, nullable=False),
    Column("score", Float),  # 0-100, decimals allowed
    Column("time_spent", Integer),
    Column("ilt_present", Boolean),
    CheckConstraint("status IN ('C', 'P', 'F', 'I', 'N')", name="ck_lesson_sessions_status"),
    # covering indexes of the progress query: whole group (by unit) and one user
    Index("ix_lesson_sessions_unit_user", "unit_id", "user_id", "status", "status_date"),
    Index("ix_lesson_sessions_user_unit", "user_id", "unit_id", "status", "status_date"),
)

course_statuses = Table(
    "course_statuses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(1), nullable=False),
    Column("status_date", DateTime, nullable=False),
    CheckConstraint("status IN ('N', 'I', 'C')", name="ck_course_statuses_status"),
    Index("ix_course_statuses_group_user", "group_id", "user_id", "status", "status_date"),
)

activity_log = Table(
    "activity_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="CASCADE")),
    Column("time", DateTime, nullable=False),
    Column("action", String(100), nullable=False, server_default=""),
    Index("ix_activity_log_group_user_time", "group_id", "user_id", "time"),
    Index("ix_activity_log_user_time", "user_id", "time"),
)

# Credentials for the admin SOAP endpoint and the ETL REST endpoint; only a hash is kept.
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("service", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime),
    Column("revoked_at", DateTime),
    CheckConstraint("service IN ('admin', 'etl')", name="ck_tokens_service"),
)

# --- MNET peers and keys (issue 5) go below this line ---

# Our key pairs, one per generation; the newest is current, older ones still decrypt for a while.
mnet_keys = Table(
    "mnet_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False, unique=True),  # two processes rotating: one wins
    Column("private_key_pem", Text, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Registered peers: their root URL, public certificate, cipher and trusted IP ranges.
mnet_peers = Table(
    "mnet_peers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wwwroot", String(255), nullable=False, unique=True),
    Column("certificate_pem", Text, nullable=False),
    Column("cipher", String(10), nullable=False, server_default="rc4"),
    Column("trusted_ips", Text, nullable=False, server_default=""),  # CIDRs, space separated
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("cipher IN ('rc4', 'aes')", name="ck_mnet_peers_cipher"),
)

# Signed envelopes seen within the drift window: a second arrival is a replay.
mnet_seen_envelopes = Table(
    "mnet_seen_envelopes",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("seen_at", DateTime, nullable=False),
    Index("ix_mnet_seen_envelopes_seen_at", "seen_at"),
)

# --- CSV synchronisation (issue 4) goes below this line ---

# --- ETL extraction (issue 6) goes below this line ---
