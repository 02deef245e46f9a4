"""What the console's control screens and synthesis read: counts, pages of records, one record."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from aula_ws.store.tables import (
    activity_log,
    cohort_members,
    cohorts,
    groups,
    lesson_sessions,
    memberships,
    sync_runs,
    units,
    user_pictures,
    users,
)

PAGE = 50


@dataclass(frozen=True)
class Page:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    total: int


@dataclass(frozen=True)
class RunRecord:
    kind: str
    file_path: str
    state: str
    started_at: datetime
    finished_at: datetime | None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _searched(query: Select[Any], columns: list[Any], text: str) -> Select[Any]:
    if not text:
        return query
    pattern = _like(text)
    return query.where(or_(*(column.like(pattern, escape="\\") for column in columns)))


def _users(text: str) -> Select[Any]:
    query = select(users.c.id, users.c.username, users.c.firstname, users.c.lastname, users.c.email, users.c.suspended)
    return _searched(query, [users.c.username, users.c.firstname, users.c.lastname, users.c.email], text).order_by(
        users.c.username
    )


def _groups(text: str) -> Select[Any]:
    query = select(groups.c.id, groups.c.shortname, groups.c.fullname, groups.c.idnumber, groups.c.visible)
    return _searched(query, [groups.c.shortname, groups.c.fullname, groups.c.idnumber], text).order_by(
        groups.c.shortname
    )


def _units(text: str) -> Select[Any]:
    query = select(groups.c.id, groups.c.shortname, units.c.code, units.c.name, units.c.type).join_from(
        units, groups, groups.c.id == units.c.group_id
    )
    return _searched(query, [units.c.code, units.c.name, groups.c.shortname], text).order_by(
        groups.c.shortname, units.c.position, units.c.code
    )


def _memberships(text: str) -> Select[Any]:
    query = (
        select(
            users.c.id,
            users.c.username,
            groups.c.shortname,
            memberships.c.perfil,
            memberships.c.estado,
            memberships.c.fecha_alta,
        )
        .join_from(memberships, users, users.c.id == memberships.c.user_id)
        .join(groups, groups.c.id == memberships.c.group_id)
    )
    return _searched(query, [users.c.username, groups.c.shortname], text).order_by(users.c.username, groups.c.shortname)


def _cohorts(text: str) -> Select[Any]:
    members = select(func.count()).where(cohort_members.c.cohort_id == cohorts.c.id).scalar_subquery()
    query = select(cohorts.c.id, cohorts.c.idnumber, cohorts.c.name, members.label("members"))
    return _searched(query, [cohorts.c.idnumber, cohorts.c.name], text).order_by(cohorts.c.name, cohorts.c.id)


def _avatars(text: str) -> Select[Any]:
    query = select(users.c.id, users.c.username, user_pictures.c.updated_at).join_from(
        user_pictures, users, users.c.id == user_pictures.c.user_id
    )
    return _searched(query, [users.c.username], text).order_by(users.c.username)


LISTS: dict[str, Callable[[str], Select[Any]]] = {
    "users": _users,
    "groups": _groups,
    "units": _units,
    "memberships": _memberships,
    "cohorts": _cohorts,
    "avatars": _avatars,
}


def page_of(connection: Connection, kind: str, text: str, number: int) -> Page:
    query = LISTS[kind](text)
    total = connection.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = [tuple(row) for row in connection.execute(query.limit(PAGE).offset(PAGE * number))]
    return Page(tuple(query.selected_columns.keys()), rows, total)


def counts(connection: Connection) -> dict[str, int]:
    tables = {
        "users": users,
        "groups": groups,
        "units": units,
        "memberships": memberships,
        "cohorts": cohorts,
        "sessions": lesson_sessions,
        "activity": activity_log,
    }
    return {name: connection.scalar(select(func.count()).select_from(table)) or 0 for name, table in tables.items()}


def last_runs(connection: Connection) -> list[RunRecord]:
    """The last run of each sync kind."""
    latest = select(sync_runs.c.kind, func.max(sync_runs.c.id).label("id")).group_by(sync_runs.c.kind).subquery()
    query = (
        select(
            sync_runs.c.kind, sync_runs.c.file_path, sync_runs.c.state, sync_runs.c.started_at, sync_runs.c.finished_at
        )
        .join_from(sync_runs, latest, latest.c.id == sync_runs.c.id)
        .order_by(sync_runs.c.kind)
    )
    return [RunRecord(*row) for row in connection.execute(query)]


def user_record(connection: Connection, user_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        return None
    record = {key: value for key, value in row.items() if key != "password_hash"}
    record["has_password"] = row["password_hash"] is not None
    record["has_picture"] = (
        connection.scalar(select(user_pictures.c.user_id).where(user_pictures.c.user_id == user_id)) is not None
    )
    return record


def memberships_of_user(connection: Connection, user_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(groups.c.id, groups.c.shortname, memberships.c.perfil, memberships.c.estado, memberships.c.fecha_alta)
        .join_from(memberships, groups, groups.c.id == memberships.c.group_id)
        .where(memberships.c.user_id == user_id)
        .order_by(groups.c.shortname)
    )
    return [tuple(row) for row in connection.execute(query)]


def cohorts_of_user(connection: Connection, user_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(cohorts.c.id, cohorts.c.idnumber, cohorts.c.name)
        .join_from(cohort_members, cohorts, cohorts.c.id == cohort_members.c.cohort_id)
        .where(cohort_members.c.user_id == user_id)
        .order_by(cohorts.c.name)
    )
    return [tuple(row) for row in connection.execute(query)]


def group_record(connection: Connection, group_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(groups).where(groups.c.id == group_id)).mappings().first()
    return None if row is None else dict(row)


def members_of_group(connection: Connection, group_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(users.c.id, users.c.username, memberships.c.perfil, memberships.c.estado, memberships.c.fecha_alta)
        .join_from(memberships, users, users.c.id == memberships.c.user_id)
        .where(memberships.c.group_id == group_id)
        .order_by(users.c.username)
    )
    return [tuple(row) for row in connection.execute(query)]


def units_of_group(connection: Connection, group_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(units.c.code, units.c.name, units.c.type)
        .where(units.c.group_id == group_id)
        .order_by(units.c.position, units.c.code)
    )
    return [tuple(row) for row in connection.execute(query)]


def cohort_record(connection: Connection, cohort_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(cohorts).where(cohorts.c.id == cohort_id)).mappings().first()
    return None if row is None else dict(row)


def members_of_cohort(connection: Connection, cohort_id: int) -> list[tuple[Any, ...]]:
    query = (
        select(users.c.id, users.c.username)
        .join_from(cohort_members, users, users.c.id == cohort_members.c.user_id)
        .where(cohort_members.c.cohort_id == cohort_id)
        .order_by(users.c.username)
    )
    return [tuple(row) for row in connection.execute(query)]
