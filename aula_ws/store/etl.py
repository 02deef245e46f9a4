"""ETL instances, their lease and marks, and the pages each boardz query reads.

A page is read in (time, tie-breaker) order strictly after a position and
before an exclusive upper time: first the page's rows alone, by the
(time, ...) index, then their user, group and unit looked up by key.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from aula_ws.domain.etl import Position, decode_key, encode_key
from aula_ws.store.tables import (
    activity_log,
    course_group_members,
    course_groups,
    etl_instances,
    etl_marks,
    groups,
    lesson_sessions,
    memberships,
    profiles,
    units,
    users,
)


@dataclass(frozen=True)
class InstanceRecord:
    id: int
    plugin: str
    name: str
    settings: dict[str, Any]
    created_at: datetime
    lease_until: datetime | None


@dataclass(frozen=True)
class Marks:
    delivered: Position | None
    acked: Position | None


_instance_columns = select(
    etl_instances.c.id,
    etl_instances.c.plugin,
    etl_instances.c.name,
    etl_instances.c.settings,
    etl_instances.c.created_at,
    etl_instances.c.lease_until,
)


def _instance(row: Row[int, str, str, str, datetime, datetime | None]) -> InstanceRecord:
    return InstanceRecord(row.id, row.plugin, row.name, json.loads(row.settings), row.created_at, row.lease_until)


def add_instance(connection: Connection, plugin: str, name: str, settings: dict[str, Any], now: datetime) -> int | None:
    """The new instance's id, or None when the name is taken."""
    try:
        with connection.begin_nested():
            instance_id: int = connection.execute(
                insert(etl_instances)
                .values(plugin=plugin, name=name, settings=json.dumps(settings), created_at=now)
                .returning(etl_instances.c.id)
            ).scalar_one()
            return instance_id
    except IntegrityError:
        return None


def find_instance(connection: Connection, instance_id: int) -> InstanceRecord | None:
    row = connection.execute(_instance_columns.where(etl_instances.c.id == instance_id)).first()
    return None if row is None else _instance(row)


def list_instances(connection: Connection) -> list[InstanceRecord]:
    return [_instance(row) for row in connection.execute(_instance_columns.order_by(etl_instances.c.id))]


def save_settings(connection: Connection, instance_id: int, settings: dict[str, Any]) -> None:
    connection.execute(
        update(etl_instances).where(etl_instances.c.id == instance_id).values(settings=json.dumps(settings))
    )


def remove_instance(connection: Connection, instance_id: int) -> bool:
    connection.execute(delete(etl_marks).where(etl_marks.c.instance_id == instance_id))
    return bool(connection.execute(delete(etl_instances).where(etl_instances.c.id == instance_id)).rowcount)


def acquire_lease(connection: Connection, instance_id: int, owner: str, now: datetime, until: datetime) -> bool:
    """Take the instance's lease if it is free or expired: one atomic UPDATE, so that of
    any number of processes at most one gets it."""
    lease = etl_instances.c.lease_until
    result = connection.execute(
        update(etl_instances)
        .where(etl_instances.c.id == instance_id, or_(lease.is_(None), lease <= now))
        .values(lease_owner=owner, lease_until=until)
    )
    return result.rowcount == 1


def release_lease(connection: Connection, instance_id: int, owner: str) -> bool:
    """Give the lease back; False when it was no longer ours (it expired and was taken)."""
    result = connection.execute(
        update(etl_instances)
        .where(etl_instances.c.id == instance_id, etl_instances.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )
    return result.rowcount == 1


def _position(at: datetime | None, key: str | None) -> Position | None:
    return None if at is None else Position(at, decode_key(key))


def marks(connection: Connection, instance_id: int) -> dict[str, Marks]:
    m = etl_marks.c
    rows = connection.execute(
        select(m.query, m.delivered_time, m.delivered_key, m.acked_time, m.acked_key).where(
            m.instance_id == instance_id
        )
    )
    return {
        row.query: Marks(_position(row.delivered_time, row.delivered_key), _position(row.acked_time, row.acked_key))
        for row in rows
    }


def save_mark(
    connection: Connection, instance_id: int, query: str, now: datetime, **positions: Position | None
) -> None:
    """Set the `delivered` and/or `acked` position of one query (a row made when missing)."""
    values: dict[str, Any] = {"updated_at": now}
    for name, position in positions.items():
        values[f"{name}_time"] = None if position is None else position.time
        values[f"{name}_key"] = None if position is None else encode_key(position.key)
    where = (etl_marks.c.instance_id == instance_id, etl_marks.c.query == query)
    if not connection.execute(update(etl_marks).where(*where).values(**values)).rowcount:
        connection.execute(insert(etl_marks).values(instance_id=instance_id, query=query, **values))


def reset_marks(connection: Connection, instance_id: int, query: str | None = None) -> int:
    statement = delete(etl_marks).where(etl_marks.c.instance_id == instance_id)
    if query is not None:
        statement = statement.where(etl_marks.c.query == query)
    return connection.execute(statement).rowcount


# --------------------------------------------------------------------------- pages


def _after(time_column: Any, key_columns: list[Any], position: Position | None) -> ColumnElement[bool]:
    """Strictly after `position` in (time, *keys) order."""
    if position is None:
        return true()
    if position.key is None:
        after_time: ColumnElement[bool] = time_column > position.time
        return after_time
    tie: ColumnElement[bool] = key_columns[-1] > position.key[-1]
    for column, value in zip(reversed(key_columns[:-1]), reversed(position.key[:-1]), strict=True):
        tie = or_(column > value, and_(column == value, tie))
    return and_(time_column >= position.time, or_(time_column > position.time, tie))


def _page(
    columns: list[Any],
    time_column: Any,
    key_columns: list[Any],
    start: ColumnElement[bool],
    before: Any,
    limit: int,
) -> Any:
    """The page's own rows, in reading order, before their look-ups are joined."""
    return (
        select(*columns)
        .where(start, time_column < before)
        .order_by(time_column, *key_columns)
        .limit(limit)
        .subquery("page")
    )


def activity_page(connection: Connection, after: Position | None, before: datetime, limit: int) -> list[Row[Any]]:
    """Activity-log rows: time, id, action, user_id, username, group_id, group fullname,
    idnumber and visible, unit_id, code and name, the member's perfil and cohort (None: not a member)."""
    a = activity_log.c
    page = _page(
        [a.id, a.time, a.action, a.user_id, a.group_id, a.unit_id],
        a.time,
        [a.id],
        _after(a.time, [a.id], after),
        before,
        limit,
    )
    return list(
        connection.execute(
            select(
                page.c.time,
                page.c.id,
                page.c.action,
                page.c.user_id,
                users.c.username,
                page.c.group_id,
                groups.c.fullname,
                groups.c.idnumber,
                groups.c.visible,
                page.c.unit_id,
                units.c.code,
                units.c.name,
                memberships.c.perfil,
                memberships.c.cohort_id,
            )
            .select_from(
                page.join(users, users.c.id == page.c.user_id)
                .join(groups, groups.c.id == page.c.group_id)
                .outerjoin(units, units.c.id == page.c.unit_id)
                .outerjoin(
                    memberships,
                    and_(memberships.c.group_id == page.c.group_id, memberships.c.user_id == page.c.user_id),
                )
            )
            .order_by(page.c.time, page.c.id)
        )
    )


def next_event_times(connection: Connection, user_ids: list[int], after: Position) -> dict[int, datetime]:
    """user id -> the time of that user's first event after `after`: one seek each on the
    (user_id, time) index (ORDER BY ... LIMIT 1, not min(): min() over the OR reads every later
    row), one statement built once and run per user."""
    a = activity_log.c
    statement = (
        select(a.time).where(a.user_id == bindparam("user_id"), _after(a.time, [a.id], after)).order_by(a.time).limit(1)
    )
    found: dict[int, datetime] = {}
    for user_id in user_ids:
        at = connection.execute(statement, {"user_id": user_id}).scalar()
        if at is not None:
            found[user_id] = at
    return found


def groups_of_membership_range(
    connection: Connection, first: tuple[int, int], last: tuple[int, int]
) -> dict[tuple[int, int], list[str]]:
    """(course id, user id) -> the names of the groups inside that course the user is in, sorted,
    for the memberships from `first` to `last` in (group, user) order: one range read per page."""
    pair = tuple_(course_groups.c.group_id, course_group_members.c.user_id)
    query = (
        select(course_groups.c.group_id, course_group_members.c.user_id, course_groups.c.name)
        .join(course_groups, course_groups.c.id == course_group_members.c.course_group_id)
        .where(pair >= tuple_(*first), pair <= tuple_(*last))
        .order_by(course_groups.c.group_id, course_group_members.c.user_id, course_groups.c.name)
    )
    found: dict[tuple[int, int], list[str]] = {}
    for group_id, user_id, name in connection.execute(query):
        found.setdefault((group_id, user_id), []).append(name)
    return found


def session_page(connection: Connection, after: Position | None, before: datetime, limit: int) -> list[Row[Any]]:
    """Lesson sessions: time, id, status, score, time_spent, group_id, unit_id, unit type, username."""
    s = lesson_sessions.c
    page = _page(
        [s.id, s.status_date, s.status, s.score, s.time_spent, s.user_id, s.unit_id],
        s.status_date,
        [s.id],
        _after(s.status_date, [s.id], after),
        before,
        limit,
    )
    return list(
        connection.execute(
            select(
                page.c.status_date,
                page.c.id,
                page.c.status,
                page.c.score,
                page.c.time_spent,
                units.c.group_id,
                page.c.unit_id,
                units.c.type,
                users.c.username,
            )
            .select_from(page.join(users, users.c.id == page.c.user_id).join(units, units.c.id == page.c.unit_id))
            .order_by(page.c.status_date, page.c.id)
        )
    )


def membership_snapshot(connection: Connection, after: tuple[int, int] | None, limit: int) -> list[Row[Any]]:
    """Every membership in (group_id, user_id) order after `after`: group_id, user_id, perfil,
    profile name, administrador_grupo, responsable_grupo, estado, fecha_alta, endtime,
    group fullname and idnumber, username."""
    m = memberships.c
    start: ColumnElement[bool] = true() if after is None else tuple_(m.group_id, m.user_id) > tuple_(*after)
    page = (
        select(m.group_id, m.user_id, m.perfil, m.administrador_grupo, m.responsable_grupo, m.estado)
        .add_columns(m.fecha_alta, m.endtime)
        .where(start)
        .order_by(m.group_id, m.user_id)
        .limit(limit)
        .subquery("page")
    )
    return list(
        connection.execute(
            select(page, profiles.c.name, groups.c.fullname, groups.c.idnumber, users.c.username)
            .select_from(
                page.join(users, users.c.id == page.c.user_id)
                .join(groups, groups.c.id == page.c.group_id)
                .join(profiles, profiles.c.code == page.c.perfil)
            )
            .order_by(page.c.group_id, page.c.user_id)
        )
    )


def group_ids(connection: Connection, first: int = 0) -> list[int]:
    """Every group's id from `first` on, in order."""
    return list(connection.scalars(select(groups.c.id).where(groups.c.id >= first).order_by(groups.c.id)))
