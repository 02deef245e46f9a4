"""Finding users by username: the one look-up every store module and service uses."""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from aula_ws.store.bulk import chunks
from aula_ws.store.tables import users


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    firstname: str
    lastname: str
    suspended: bool
    site_admin: bool
    mnethost: str | None  # the root URL of the MNET peer the user comes from; None: a local user


# built once: the contract's progress query looks a user up on every call
_find_user = select(
    users.c.id,
    users.c.username,
    users.c.firstname,
    users.c.lastname,
    users.c.suspended,
    users.c.site_admin,
    users.c.mnethost,
).where(users.c.username == bindparam("username"))


def find_user(connection: Connection, username: str) -> UserRecord | None:
    row = connection.execute(_find_user, {"username": username}).first()
    return None if row is None else UserRecord(*row)


def user_ids(connection: Connection, usernames: Collection[str]) -> dict[str, int]:
    """username -> id of those that exist (a batch's look-up, one query per chunk)."""
    found: dict[str, int] = {}
    for chunk in chunks(usernames):
        query = select(users.c.username, users.c.id).where(users.c.username.in_(chunk))
        found.update({name: id_ for name, id_ in connection.execute(query)})
    return found
