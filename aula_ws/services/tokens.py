"""Use cases: site admins and their tokens (CONTRACT.md sections 6 and 7).

A token is shown once, when created; only its SHA-256 is stored. A token
authenticates while it is neither expired nor revoked, and while its user is
still a site admin.
"""

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from aula_ws.errors import AuthenticationFailed, InvalidRequest, NoRight, NotAllowed, NotFound, TokenExpired
from aula_ws.store import credentials
from aula_ws.store.unit_of_work import Reading, UnitOfWork
from aula_ws.store.users import find_user

SERVICES = ("admin", "etl")


@dataclass(frozen=True)
class TokenHolder:
    user_id: int
    username: str
    service: str


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def set_site_admin(engine: Engine, username: str, on: bool = True) -> None:
    with UnitOfWork(engine) as uow:
        user = find_user(uow.connection, username)
        if user is None:
            raise NotFound("user", username)
        credentials.set_site_admin(uow.connection, user.id, on)
        uow.commit()


def create_token(
    engine: Engine, username: str, service: str, now: datetime, expires_at: datetime | None = None
) -> tuple[int, str]:
    """A new token for a site admin: (its id, the secret to show once); it must outlive `now`."""
    if expires_at is not None and expires_at <= now:
        raise InvalidRequest("a token must expire after it is created (a dead token is refused)")
    if service not in SERVICES:
        raise NotAllowed(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
    with UnitOfWork(engine) as uow:
        user = find_user(uow.connection, username)
        if user is None:
            raise NotFound("user", username)
        if not user.site_admin:
            raise NotAllowed(f"{username} is not a site admin (aula-ws user set-admin {username})")
        secret = secrets.token_hex(32)
        token_id = credentials.add_token(uow.connection, user.id, service, token_hash(secret), now, expires_at)
        uow.commit()
    return token_id, secret


def list_tokens(engine: Engine) -> list[credentials.TokenRecord]:
    with Reading(engine) as uow:
        return credentials.list_tokens(uow.connection)


def revoke_token(engine: Engine, token_id: int, now: datetime) -> None:
    with UnitOfWork(engine) as uow:
        if not credentials.revoke_token(uow.connection, token_id, now):
            raise NotFound("token", token_id)
        uow.commit()


def authenticate(engine: Engine, secret: str | None, services: Collection[str], now: datetime) -> TokenHolder:
    """The holder of `secret` when it is a live token of one of `services` held by a site admin."""
    if not secret:
        raise AuthenticationFailed("no token given")
    with Reading(engine) as uow:
        token = credentials.find_token(uow.connection, token_hash(secret))
    if token is None:
        raise AuthenticationFailed("unknown token")
    if token.revoked_at is not None:
        raise AuthenticationFailed(f"token {token.id} is revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenExpired(f"token {token.id} expired")
    if token.service not in services:
        raise NoRight(f"token {token.id} is for the {token.service} service")
    if not token.site_admin:
        raise NoRight(f"token {token.id} belongs to {token.username}, no longer a site admin")
    return TokenHolder(token.user_id, token.username, token.service)
