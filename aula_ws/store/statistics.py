"""Look-ups and writes of the statistics import, one query per batch and table."""

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Table, bindparam, select, update

from aula_ws.store.bulk import (
    bulk_insert,
    bulk_insert_columns,
    checks_ignored,
    foreign_keys_unchecked,
    highest_id,
    indexes_deferred,
)
from aula_ws.store.tables import (
    activity_log,
    course_statuses,
    groups,
    lesson_sessions,
    memberships,
    units,
    users,
)

LESSON_COLUMNS = ("user_id", "unit_id", "status", "status_date", "score", "time_spent", "ilt_present")
COURSE_COLUMNS = ("user_id", "group_id", "status", "status_date")
ACTIVITY_COLUMNS = ("user_id", "group_id", "unit_id", "time", "action")


def group_ids(connection: Connection, shortnames: Collection[str]) -> dict[str, int]:
    if not shortnames:
        return {}
    rows = connection.execute(select(groups.c.shortname, groups.c.id).where(groups.c.shortname.in_(shortnames)))
    return {name: id_ for name, id_ in rows}


def units_of(connection: Connection, keys: Collection[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, str]]:
    if not keys:
        return {}
    query = select(units.c.group_id, units.c.code, units.c.id, units.c.type).where(
        units.c.group_id.in_({g for g, _ in keys}), units.c.code.in_({c for _, c in keys})
    )
    return {(g, code): (unit_id, type_) for g, code, unit_id, type_ in connection.execute(query)}


def course_members(connection: Connection, group_id: int, at_most: int) -> dict[str, int] | None:
    """login -> user id of every member of the course; None when it has more than `at_most`."""
    query = (
        select(users.c.username, users.c.id)
        .join_from(memberships, users, users.c.id == memberships.c.user_id)
        .where(memberships.c.group_id == group_id)
        .limit(max(at_most, 0) + 1)
    )
    members = {name: user_id for name, user_id in connection.execute(query)}
    return None if len(members) > at_most else members


def course_units(connection: Connection, group_id: int) -> dict[tuple[int, str], tuple[int, str]]:
    """(course, code) -> (unit id, type) of every unit of the course."""
    query = select(units.c.code, units.c.id, units.c.type).where(units.c.group_id == group_id)
    return {(group_id, code): (unit_id, type_) for code, unit_id, type_ in connection.execute(query)}


def memberships_among(connection: Connection, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    if not pairs:
        return set()
    query = select(memberships.c.user_id, memberships.c.group_id).where(
        memberships.c.user_id.in_({u for u, _ in pairs}), memberships.c.group_id.in_({g for _, g in pairs})
    )
    return {(u, g) for u, g in connection.execute(query) if (u, g) in pairs}


def latest_lesson_sessions(connection: Connection, pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(user, unit) -> id of its latest session (latest status date, then latest id)."""
    s = lesson_sessions
    return _latest(connection, pairs, s.c.user_id, s.c.unit_id, s.c.status_date, s.c.id)


def latest_course_statuses(connection: Connection, pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], int]:
    c = course_statuses
    return _latest(connection, pairs, c.c.user_id, c.c.group_id, c.c.status_date, c.c.id)


def _latest(
    connection: Connection,
    pairs: Collection[tuple[int, int]],
    first: Column[Any],
    second: Column[Any],
    moment: Column[Any],
    id_: Column[Any],
) -> dict[tuple[int, int], int]:
    if not pairs:
        return {}
    query = select(first, second, moment, id_).where(
        first.in_({a for a, _ in pairs}), second.in_({b for _, b in pairs})
    )
    latest: dict[tuple[int, int], tuple[Any, int]] = {}
    for a, b, at, record_id in connection.execute(query):
        key = (a, b)
        if key in pairs and (key not in latest or (at, record_id) > latest[key]):
            latest[key] = (at, record_id)
    return {key: record_id for key, (_, record_id) in latest.items()}


def existing_activity(connection: Connection, keys: Collection[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    if not keys:
        return set()
    a = activity_log
    query = select(a.c.user_id, a.c.group_id, a.c.unit_id, a.c.time, a.c.action).where(
        a.c.user_id.in_({k[0] for k in keys}), a.c.time.in_({k[3] for k in keys})
    )
    return {tuple(row) for row in connection.execute(query) if tuple(row) in keys}


def enrol_many(connection: Connection, enrolments: Iterable[tuple[int, int, date]], perfil: str) -> None:
    rows = [(user_id, group_id, perfil, since) for user_id, group_id, since in enrolments]
    bulk_insert(connection, memberships, ("user_id", "group_id", "perfil", "fecha_alta"), rows)


LARGE_LOAD_LINES = 50_000
SESSIONS_BY_USER_UNIT = "ix_lesson_sessions_user_unit"  # the look-ups' and the refresh's order


def lessons_loading(
    connection: Connection, expected_lines: int, sessions_looked_up: bool
) -> AbstractContextManager[Callable[[], None]]:
    """Around a lessons load; yields what to call before the maintained progress is refreshed.

    A large load (at least LARGE_LOAD_LINES, and a quarter of the rows already there) builds
    the table's secondary indexes after it, skips its CHECK (the domain checked every status)
    and its foreign keys (looked up in the same transaction); the (user, unit) index is kept
    up to date when the load itself looks sessions up (an on-existing policy), else built
    before the refresh, which reads the sessions in its order. A smaller load keeps every
    index up to date and checks everything."""
    if expected_lines < LARGE_LOAD_LINES or expected_lines * 4 < highest_id(connection, lesson_sessions):
        return nullcontext(_nothing)
    return _large_lessons_load(connection, sessions_looked_up)


def _nothing() -> None:
    pass


@contextmanager
def _large_lessons_load(connection: Connection, sessions_looked_up: bool) -> Iterator[Callable[[], None]]:
    keep = {SESSIONS_BY_USER_UNIT} if sessions_looked_up else set()
    with (
        foreign_keys_unchecked(connection),  # first: before indexes_deferred opens the transaction
        checks_ignored(connection),
        indexes_deferred(connection, lesson_sessions, keep=keep) as deferred,
    ):
        yield lambda: deferred.build(SESSIONS_BY_USER_UNIT)


def insert_lesson_sessions(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    bulk_insert(connection, lesson_sessions, LESSON_COLUMNS, rows)


def insert_lesson_columns(connection: Connection, columns: list[list[Any]]) -> None:
    """Sessions given column by column, in the order of LESSON_COLUMNS."""
    bulk_insert_columns(connection, lesson_sessions, LESSON_COLUMNS, columns)


def insert_course_statuses(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    bulk_insert(connection, course_statuses, COURSE_COLUMNS, rows)


def insert_activity(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    bulk_insert(connection, activity_log, ACTIVITY_COLUMNS, rows)


def update_lesson_sessions(connection: Connection, updates: dict[int, tuple[Any, ...]]) -> None:
    _update(connection, lesson_sessions, LESSON_COLUMNS, updates)


def update_course_statuses(connection: Connection, updates: dict[int, tuple[Any, ...]]) -> None:
    _update(connection, course_statuses, COURSE_COLUMNS, updates)


def _update(
    connection: Connection, table: Table, columns: tuple[str, ...], updates: dict[int, tuple[Any, ...]]
) -> None:
    if not updates:
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("record_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )
    connection.execute(
        statement,
        [
            {"record_id": record_id, **{f"new_{n}": v for n, v in zip(columns, values, strict=True)}}
            for record_id, values in updates.items()
        ],
    )
