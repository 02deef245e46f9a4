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
    LargeBinary,
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
    Column("password_hash", String(255)),  # sync users file (issue 4): argon2id, never the password
    Column("mnethost", String(255)),  # MNET: the root URL of a peer the user comes from; NULL: a local user
    # tool_sync's `auth` as given; a password_hash of `*NOPASS*` (as the users file says) never signs in
    Column("auth", String(20), nullable=False, server_default="manual"),
    # tool_sync finds users by idnumber or e-mail as well (and checks both for collisions)
    Index("ix_users_idnumber", "idnumber"),
    Index("ix_users_email", "email"),
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
    Column("startdate", DateTime),  # sync courses file (issue 4)
    Column("visible", Boolean, nullable=False, server_default="1"),  # sync courses file (issue 4)
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
    Column("endtime", DateTime),  # sync enrolments (issue 4): estado turns false once it passes
    Column("cohort_id", Integer),  # sync (issue 4): the cohort binding that made it, if any
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

# use_stats reads a user's whole activity in time order: covering, so no row is visited
Index(
    "ix_activity_log_user_time_course",
    activity_log.c.user_id,
    activity_log.c.time,
    activity_log.c.group_id,
    activity_log.c.unit_id,
    activity_log.c.action,  # the engine's sessions (loggedin, loggedout, graded): still index-only
)

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

# A peer's certificates before its current one (it rotated, or told us its new one).
mnet_peer_certificates = Table(
    "mnet_peer_certificates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("peer_id", Integer, ForeignKey("mnet_peers.id", ondelete="CASCADE"), nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("replaced_at", DateTime, nullable=False),
    Index("ix_mnet_peer_certificates_peer", "peer_id", "replaced_at"),
)

# What a peer may call on us (publish) and what we call on it (subscribe), per service (Moodle's mnet_host2service).
mnet_peer_services = Table(
    "mnet_peer_services",
    metadata,
    Column("peer_id", Integer, ForeignKey("mnet_peers.id", ondelete="CASCADE"), primary_key=True),
    Column("service", String(50), primary_key=True),
    Column("publish", Boolean, nullable=False),
    Column("subscribe", Boolean, nullable=False),
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

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idnumber", String(100), unique=True),  # None: a cohort known by its name only (tool_sync)
    Column("name", String(255), nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", DateTime, nullable=False),
)

cohort_members = Table(
    "cohort_members",
    metadata,
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_cohort_members_user", "user_id"),
)

# Members of a bound cohort are enrolled in the group with this perfil.
cohort_courses = Table(
    "cohort_courses",
    metadata,
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("perfil", String(20), ForeignKey("profiles.code"), nullable=False),
    Column("enrolstart", DateTime),  # the enrolments it makes start then (None: when made)
    Column("enrolend", DateTime),  # ... and end then (None: never)
    Column("makegroup", Boolean, nullable=False, server_default="0"),  # members join a course group of its name
)

# tool_sync: a users file's `profile_field_<name>` columns, kept as the user's profile fields.
user_profile_fields = Table(
    "user_profile_fields",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False, server_default=""),
)

# Moodle's groups inside a course (tool_sync `gcmd`/`g1..g9`, `group<n>`, bindings' makegroup);
# in aula-ws a "group" (groups table) is the course itself, hence the name.
course_groups = Table(
    "course_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(254), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("group_id", "name", name="uq_course_groups_group_name"),
)

course_group_members = Table(
    "course_group_members",
    metadata,
    Column("course_group_id", Integer, ForeignKey("course_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("protected", Boolean, nullable=False, server_default="0"),  # enrols_protectgroups: joined by sync
    Index("ix_course_group_members_user", "user_id"),
)

# The user's picture, normalised: a 100x100 and a 35x35 PNG.
user_pictures = Table(
    "user_pictures",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("large_png", LargeBinary, nullable=False),
    Column("small_png", LargeBinary, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Every run of a sync file; a run left `running` was killed: its file is set aside.
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("file_path", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("holder", String(255), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    CheckConstraint("state IN ('running', 'applied', 'done', 'crashed')", name="ck_sync_runs_state"),
    Index("ix_sync_runs_kind_state", "kind", "state"),
)

# Runner locks (one per file kind, and the capture): two runners never process the same file.
sync_locks = Table(
    "sync_locks",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("acquired_at", DateTime, nullable=False),
)

# One alarm mail per stale lock file (its path and modification time).
sync_alarms = Table(
    "sync_alarms",
    metadata,
    Column("lock_key", String(255), primary_key=True),
    Column("sent_at", DateTime, nullable=False),
)

# When each file kind last ran on its schedule.
sync_schedule = Table(
    "sync_schedule",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("last_run_at", DateTime, nullable=False),
)

# --- ETL extraction (issue 6) goes below this line ---

# Extraction instances: a plugin, a name, its settings (JSON) and a lease held by the one
# extraction running on it (lease_owner until lease_until; an expired lease is free).
etl_instances = Table(
    "etl_instances",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plugin", String(20), nullable=False),
    Column("name", String(255), nullable=False, unique=True),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("created_at", DateTime, nullable=False),
    Column("lease_owner", String(32)),
    Column("lease_until", DateTime),
    CheckConstraint("plugin IN ('boardz', 'progress')", name="ck_etl_instances_plugin"),
)

# Each instance's marks per query: the last record delivered and the last acknowledged,
# each a (time, key) position; the key (JSON) breaks ties between records of one time.
etl_marks = Table(
    "etl_marks",
    metadata,
    Column("instance_id", Integer, ForeignKey("etl_instances.id", ondelete="CASCADE"), primary_key=True),
    Column("query", String(50), primary_key=True),
    Column("delivered_time", DateTime),
    Column("delivered_key", String(255)),
    Column("acked_time", DateTime),
    Column("acked_key", String(255)),
    Column("updated_at", DateTime, nullable=False),
)

# The extraction reads each source in (time, tie-breaker) order from a position.
Index("ix_activity_log_time_id", activity_log.c.time, activity_log.c.id)
Index("ix_lesson_sessions_status_date_id", lesson_sessions.c.status_date, lesson_sessions.c.id)
Index(
    "ix_memberships_fecha_alta_group_user",
    memberships.c.fecha_alta,
    memberships.c.group_id,
    memberships.c.user_id,
)

# The admin console (issue 16): signed-in sessions (the SHA-256 of the cookie's token, never
# the token), sign-in attempts (to limit them per account and per address) and the audit log
# of every admin action (who, what, when; never a password or a token).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

console_attempts = Table(
    "console_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_console_attempts_username_at", "username", "at"),
    Index("ix_console_attempts_address_at", "address", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("address", String(64), nullable=False, server_default=""),
    Column("at", DateTime, nullable=False),
)

# The maintained progress (issue 15), derived from the three statistics tables and rewritten in
# the same transaction as every write to them (store/progress.py `refresh`): per (user, unit)
# the first session and the first completion (C or P); per (user, group) the count and latest of
# those completions, the first interaction (session, course status or activity) and the first
# course completion. Whether the group tracks progress and its unit count are read live.
unit_progress = Table(
    "unit_progress",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("first_session", DateTime, nullable=False),
    Column("first_done", DateTime),
    Index("ix_unit_progress_group_user", "group_id", "user_id", "first_done"),
)

member_progress = Table(
    "member_progress",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("units_done", Integer, nullable=False),
    Column("last_done", DateTime),
    Column("first_interaction", DateTime),
    Column("first_course_completion", DateTime),
)
