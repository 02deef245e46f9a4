"""Use cases of the admin console's door: sign in, find the session, sign out, set a password,
write and read the audit log.

A session is a random token in an HttpOnly cookie; the database keeps its SHA-256 only
(a stolen database opens no session), for `SESSION_HOURS`. A form's CSRF token is the HMAC of
the session's token, so it needs no state of its own. Sign-in attempts are limited per
account and per address over a window (`ATTEMPT_WINDOW`): past the limit even the right
password is refused until the window moves on.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from aula_ws.errors import AuthenticationFailed, InvalidRequest, NotFound, SignInLimited
from aula_ws.passwords import hash_password, password_matches
from aula_ws.store import console as store
from aula_ws.store.unit_of_work import Reading, UnitOfWork

SESSION_HOURS = 8
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20
MIN_PASSWORD = 8


@dataclass(frozen=True)
class SignedIn:
    username: str
    token: str  # the cookie's value; never stored

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"aula-ws console form", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), sent)


def sign_in(engine: Engine, username: str, password: str, address: str, now: datetime) -> SignedIn:
    """A new session for a site admin whose password matches; AuthenticationFailed otherwise
    (one message for every reason), SignInLimited past the attempt limits."""
    username = username.strip()
    with UnitOfWork(engine) as uow:
        store.forget_attempts(uow.connection, now - ATTEMPT_WINDOW)
        by_user, by_address = store.attempts_since(uow.connection, now - ATTEMPT_WINDOW, username, address)
        if by_user >= MAX_PER_ACCOUNT or by_address >= MAX_PER_ADDRESS:
            store.add_audit(uow.connection, username, "sign-in limited", "", address, now)
            uow.commit()
            raise SignInLimited(f"{username!r} from {address}: too many attempts", int(ATTEMPT_WINDOW.seconds // 60))
        admin = store.find_admin(uow.connection, username)
        if (
            admin is None
            or not admin.site_admin
            or admin.suspended
            or not password_matches(password, admin.password_hash)
        ):
            store.add_attempt(uow.connection, username, address, now)
            store.add_audit(uow.connection, username, "sign-in refused", "", address, now)
            uow.commit()
            raise AuthenticationFailed(f"console sign-in refused for {username!r} from {address}")
        token = secrets.token_urlsafe(32)
        store.end_expired_sessions(uow.connection, now)
        store.add_session(uow.connection, _digest(token), admin.id, now, now + timedelta(hours=SESSION_HOURS))
        store.add_audit(uow.connection, admin.username, "sign-in", "", address, now)
        uow.commit()
    return SignedIn(admin.username, token)


def session(engine: Engine, token: str | None, now: datetime) -> SignedIn | None:
    """The signed-in admin of a cookie's token, while the session lasts and the user is still an admin."""
    if not token or len(token) > 100:
        return None
    with Reading(engine) as uow:
        admin = store.session_admin(uow.connection, _digest(token), now)
    if admin is None or not admin.site_admin or admin.suspended:
        return None
    return SignedIn(admin.username, token)


def sign_out(engine: Engine, signed: SignedIn, address: str, now: datetime) -> None:
    with UnitOfWork(engine) as uow:
        store.end_session(uow.connection, _digest(signed.token))
        store.add_audit(uow.connection, signed.username, "sign-out", "", address, now)
        uow.commit()


def set_password(engine: Engine, username: str, password: str, now: datetime) -> None:
    """Sets a user's console password (argon2id); the user must exist."""
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"the password must have at least {MIN_PASSWORD} characters")
    with UnitOfWork(engine) as uow:
        admin = store.find_admin(uow.connection, username)
        if admin is None:
            raise NotFound("user", username)
        store.set_password_hash(uow.connection, admin.id, hash_password(password, None))
        store.add_audit(uow.connection, username, "password set", "from the command line", "", now)
        uow.commit()


def audit(engine: Engine, username: str, action: str, detail: str, address: str, now: datetime) -> None:
    """One line of the audit log: who did what when; callers never pass a secret in `detail`."""
    with UnitOfWork(engine) as uow:
        store.add_audit(uow.connection, username, action, detail, address, now)
        uow.commit()


def last_audit(engine: Engine, limit: int = 50) -> list[store.AuditEntry]:
    with Reading(engine) as uow:
        return store.last_audit(uow.connection, limit)
