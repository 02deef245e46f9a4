"""Site-admin flags and tokens."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from aula_ws.store.tables import tokens, users


@dataclass(frozen=True)
class TokenRecord:
    id: int
    user_id: int
    username: str
    site_admin: bool
    service: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def set_site_admin(connection: Connection, user_id: int, on: bool) -> None:
    connection.execute(update(users).where(users.c.id == user_id).values(site_admin=on))


def add_token(
    connection: Connection,
    user_id: int,
    service: str,
    token_hash: str,
    created_at: datetime,
    expires_at: datetime | None,
) -> int:
    token_id: int = connection.execute(
        insert(tokens)
        .values(
            user_id=user_id,
            service=service,
            token_hash=token_hash,
            created_at=created_at,
            expires_at=expires_at,
        )
        .returning(tokens.c.id)
    ).scalar_one()
    return token_id


_token_columns = select(
    tokens.c.id,
    tokens.c.user_id,
    users.c.username,
    users.c.site_admin,
    tokens.c.service,
    tokens.c.created_at,
    tokens.c.expires_at,
    tokens.c.revoked_at,
).join_from(tokens, users, users.c.id == tokens.c.user_id)


def find_token(connection: Connection, token_hash: str) -> TokenRecord | None:
    row = connection.execute(_token_columns.where(tokens.c.token_hash == token_hash)).first()
    return None if row is None else TokenRecord(*row)


def list_tokens(connection: Connection) -> list[TokenRecord]:
    return [TokenRecord(*row) for row in connection.execute(_token_columns.order_by(tokens.c.id))]


def revoke_token(connection: Connection, token_id: int, now: datetime) -> bool:
    result = connection.execute(
        update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    if result.rowcount:
        return True
    return connection.scalar(select(tokens.c.id).where(tokens.c.id == token_id)) is not None
