"""The admin console's own rows: sessions, sign-in attempts, the audit log, a user's password hash."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from aula_ws.store.tables import audit_log, console_attempts, console_sessions, users


@dataclass(frozen=True)
class Admin:
    id: int
    username: str
    site_admin: bool
    suspended: bool
    password_hash: str | None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    username: str
    action: str
    detail: str
    address: str


_admin = select(users.c.id, users.c.username, users.c.site_admin, users.c.suspended, users.c.password_hash)


def find_admin(connection: Connection, username: str) -> Admin | None:
    row = connection.execute(_admin.where(users.c.username == username)).first()
    return None if row is None else Admin(*row)


def set_password_hash(connection: Connection, user_id: int, password_hash: str) -> None:
    connection.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def add_session(connection: Connection, token_hash: str, user_id: int, now: datetime, expires: datetime) -> None:
    connection.execute(
        insert(console_sessions).values(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires)
    )


def session_admin(connection: Connection, token_hash: str, now: datetime) -> Admin | None:
    query = _admin.join_from(console_sessions, users, users.c.id == console_sessions.c.user_id).where(
        console_sessions.c.token_hash == token_hash, console_sessions.c.expires_at > now
    )
    row = connection.execute(query).first()
    return None if row is None else Admin(*row)


def end_session(connection: Connection, token_hash: str) -> None:
    connection.execute(delete(console_sessions).where(console_sessions.c.token_hash == token_hash))


def end_expired_sessions(connection: Connection, now: datetime) -> None:
    connection.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))


def add_attempt(connection: Connection, username: str, address: str, now: datetime) -> None:
    connection.execute(insert(console_attempts).values(username=username[:100], address=address[:64], at=now))


def attempts_since(connection: Connection, since: datetime, username: str, address: str) -> tuple[int, int]:
    """Failed attempts since `since`: (for this account, from this address)."""
    count = select(func.count()).select_from(console_attempts).where(console_attempts.c.at >= since)
    by_user = connection.scalar(count.where(console_attempts.c.username == username[:100])) or 0
    by_address = connection.scalar(count.where(console_attempts.c.address == address[:64])) or 0
    return by_user, by_address


def forget_attempts(connection: Connection, before: datetime) -> None:
    connection.execute(delete(console_attempts).where(console_attempts.c.at < before))


def add_audit(connection: Connection, username: str, action: str, detail: str, address: str, now: datetime) -> None:
    connection.execute(
        insert(audit_log).values(username=username, action=action, detail=detail[:2000], address=address[:64], at=now)
    )


def last_audit(connection: Connection, limit: int) -> list[AuditEntry]:
    query = select(audit_log.c.at, audit_log.c.username, audit_log.c.action, audit_log.c.detail, audit_log.c.address)
    return [AuditEntry(*row) for row in connection.execute(query.order_by(audit_log.c.id.desc()).limit(limit))]
