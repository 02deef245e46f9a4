"""Users, profiles, groups, units and memberships: look-ups and inserts."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text

from aula_ws.domain.contract_params import ANONYMOUS_LOGIN
from aula_ws.store.progress import refresh
from aula_ws.store.tables import (
    activity_log,
    course_statuses,
    groups,
    lesson_sessions,
    memberships,
    profiles,
    units,
    users,
)
from aula_ws.store.users import find_user

GUEST_PROFILE = "I"


@dataclass(frozen=True)
class GroupRecord:
    id: int
    shortname: str
    tracks_progress: bool
    unit_count: int


_unit_count = select(func.count()).where(units.c.group_id == groups.c.id).scalar_subquery()


# built once: executing a prebuilt statement skips construction and cache-key work
_find_group = select(groups.c.id, groups.c.shortname, groups.c.tracks_progress, _unit_count).where(
    groups.c.id == bindparam("group_id")
)


def find_group(connection: Connection, group_id: int) -> GroupRecord | None:
    row = connection.execute(_find_group, {"group_id": group_id}).first()
    return None if row is None else GroupRecord(*row)


def profile_exists(connection: Connection, code: str) -> bool:
    return connection.scalar(select(profiles.c.code).where(profiles.c.code == code)) is not None


def add_user(connection: Connection, username: str, **fields: Any) -> int:
    user_id: int = connection.execute(
        insert(users).values(username=username, **fields).returning(users.c.id)
    ).scalar_one()
    return user_id


def add_group(
    connection: Connection,
    shortname: str,
    created_at: datetime,
    group_id: int | None = None,
    **fields: Any,
) -> int:
    """A new group, with `_anonimo` as its guest member since the group's creation."""
    values = dict(shortname=shortname, created_at=created_at, **fields)
    if group_id is not None:
        values["id"] = group_id
    new_id: int = connection.execute(insert(groups).values(**values).returning(groups.c.id)).scalar_one()
    if group_id is not None and connection.dialect.name == "postgresql":
        # an explicit id does not move PostgreSQL's sequence: move it past the largest id
        connection.execute(text("SELECT setval(pg_get_serial_sequence('groups', 'id'), (SELECT max(id) FROM groups))"))
    anonymous = find_user(connection, ANONYMOUS_LOGIN)
    connection.execute(
        insert(memberships).values(
            user_id=None if anonymous is None else anonymous.id,
            group_id=new_id,
            perfil=GUEST_PROFILE,
            estado=True,
            fecha_alta=created_at.date(),
        )
    )
    return new_id


def add_unit(connection: Connection, group_id: int, code: str, type_: str, **fields: Any) -> int:
    unit_id: int = connection.execute(
        insert(units).values(group_id=group_id, code=code, type=type_, **fields).returning(units.c.id)
    ).scalar_one()
    return unit_id


def enrol(connection: Connection, user_id: int, group_id: int, perfil: str, fecha_alta: date, **fields: Any) -> None:
    connection.execute(
        insert(memberships).values(user_id=user_id, group_id=group_id, perfil=perfil, fecha_alta=fecha_alta, **fields)
    )


def add_rows(connection: Connection, table_name: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Bulk insert into one of the statistics tables (an executemany)."""
    table = _STATISTICS_TABLES[table_name]
    batch = list(rows)
    if batch:
        connection.execute(insert(table), batch)
        if table_name in _FEEDS_PROGRESS:
            refresh(connection, user_ids={row["user_id"] for row in batch})


_FEEDS_PROGRESS = {"lesson_sessions", "course_statuses", "activity_log"}


_STATISTICS_TABLES = {
    "users": users,
    "memberships": memberships,
    "lesson_sessions": lesson_sessions,
    "course_statuses": course_statuses,
    "activity_log": activity_log,
}
