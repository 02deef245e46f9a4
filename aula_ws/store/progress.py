"""The maintained progress: its refresh after writes, and the group's aggregate read from it.

`refresh` rewrites `unit_progress` and `member_progress` from the statistics tables for a scope
(some users, some groups, or everything) inside the caller's transaction; every write to
lesson_sessions, course_statuses, activity_log or units calls it for what it touched, so the
tables always equal what `aula-ws progress rebuild` (a refresh of everything) would write.

`member_facts` reads per member the facts avance needs at two instants (`upper`, `lower`).
Undated it reads the member's row (its count of units done), and counts the per-unit rows only
for a member with a completion dated after now; dated, it counts the per-unit first completions
at or before each instant. No date bound sits in a join condition next to `IN (SELECT ...)`,
which SQLite 3.40 answers wrongly (see the performance baselines, section 5).
"""

from collections.abc import Collection
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from aula_ws.domain.progress import COMPLETING_STATUSES, COURSE_COMPLETED
from aula_ws.store.bulk import chunks
from aula_ws.store.tables import (
    activity_log,
    course_statuses,
    lesson_sessions,
    member_progress,
    memberships,
    unit_progress,
    units,
    users,
)

# inline IN list: a list of values is an expanding parameter, re-rendered on every execution
_COMPLETING_INLINE: list[ColumnClause[Any]] = [literal_column(f"'{code}'") for code in sorted(COMPLETING_STATUSES)]


PROGRESS_LOCK = 0x61756C61  # "aula": the advisory lock of the maintained progress (PostgreSQL)


def refresh(
    connection: Connection,
    *,
    user_ids: Collection[int] | None = None,
    group_ids: Collection[int] | None = None,
) -> None:
    """Recompute the maintained progress of the given users in the given groups (None: all)."""
    user_chunks: list[list[int] | None] = [None] if user_ids is None else list(chunks(sorted(set(user_ids))))
    group_list = None if group_ids is None else sorted(set(group_ids))
    if group_list is not None and not group_list:
        return
    if connection.dialect.name == "postgresql":
        # two imports refreshing the same members would each wait for the other's rows (a deadlock):
        # refreshes take turns, until the commit, and each sees what the one before committed
        connection.execute(select(func.pg_advisory_xact_lock(PROGRESS_LOCK)))
    for chunk in user_chunks:
        _refresh(connection, chunk, group_list)


def _scope(user_column: Any, group_column: Any, user_ids: list[int] | None, group_ids: list[int] | None) -> Any:
    conditions = [literal(True)]
    if user_ids is not None:
        conditions.append(user_column.in_(user_ids))
    if group_ids is not None:
        conditions.append(group_column.in_(group_ids))
    return and_(*conditions)


def _refresh(connection: Connection, user_ids: list[int] | None, group_ids: list[int] | None) -> None:
    up, mp, s, u = unit_progress, member_progress, lesson_sessions, units
    connection.execute(delete(up).where(_scope(up.c.user_id, up.c.group_id, user_ids, group_ids)))
    connection.execute(delete(mp).where(_scope(mp.c.user_id, mp.c.group_id, user_ids, group_ids)))
    # grouped by (user, unit) alone, the order of the index on lesson_sessions (user, unit, ...):
    # SQLite then aggregates as it scans, without sorting every row first (the unit's group is
    # one value per unit, taken with max)
    if group_ids is not None and len(group_ids) == 1:
        # one course (a large import's usual refresh): its units listed once, its id a constant,
        # rather than a join to units at every session (~15% of the aggregate)
        group_id: ColumnElement[Any] = literal(group_ids[0], Integer)
        sessions: Any = s
        scope = and_(
            s.c.unit_id.in_(select(u.c.id).where(u.c.group_id == group_id)), _scope(s.c.user_id, None, user_ids, None)
        )
    else:
        group_id = func.max(u.c.group_id)
        sessions = s.join(u, u.c.id == s.c.unit_id)
        scope = _scope(s.c.user_id, u.c.group_id, user_ids, group_ids)
    per_unit = (
        select(
            s.c.user_id,
            s.c.unit_id,
            group_id,
            func.min(s.c.status_date),
            func.min(case((s.c.status.in_(_COMPLETING_INLINE), s.c.status_date))),
        )
        .select_from(sessions)
        .where(scope)
        .group_by(s.c.user_id, s.c.unit_id)
    )
    connection.execute(
        insert(up).from_select(["user_id", "unit_id", "group_id", "first_session", "first_done"], per_unit)
    )
    no_time = cast(null(), DateTime)
    cs, al = course_statuses, activity_log
    parts = union_all(
        select(
            up.c.user_id,
            up.c.group_id,
            func.count(up.c.first_done).label("done"),
            func.max(up.c.first_done).label("last_done"),
            func.min(up.c.first_session).label("first_interaction"),
            no_time.label("first_completion"),
        )
        .where(_scope(up.c.user_id, up.c.group_id, user_ids, group_ids))
        .group_by(up.c.user_id, up.c.group_id),
        select(
            cs.c.user_id,
            cs.c.group_id,
            literal(0, Integer),
            no_time,
            func.min(cs.c.status_date),
            func.min(case((cs.c.status == COURSE_COMPLETED, cs.c.status_date))),
        )
        .where(_scope(cs.c.user_id, cs.c.group_id, user_ids, group_ids))
        .group_by(cs.c.user_id, cs.c.group_id),
        select(al.c.user_id, al.c.group_id, literal(0, Integer), no_time, func.min(al.c.time), no_time)
        .where(_scope(al.c.user_id, al.c.group_id, user_ids, group_ids))
        .group_by(al.c.user_id, al.c.group_id),
    ).subquery("parts")
    per_member = select(
        parts.c.user_id,
        parts.c.group_id,
        func.sum(parts.c.done),
        func.max(parts.c.last_done),
        func.min(parts.c.first_interaction),
        func.min(parts.c.first_completion),
    ).group_by(parts.c.user_id, parts.c.group_id)
    connection.execute(
        insert(mp).from_select(
            ["user_id", "group_id", "units_done", "last_done", "first_interaction", "first_course_completion"],
            per_member,
        )
    )


def count_member_rows(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(member_progress)).scalar_one())


# A membership and the member's state: username, administrador_grupo, estado, perfil, fecha_alta
# (ISO text), responsable_grupo, then interacted, course completed, units completed at `upper`,
# and, dated, the same three at `lower`. Flags come as 0/1 (or bool): plain tuples, 100,000 of them,
# with no per-value conversion by the driver or SQLAlchemy.
MemberFacts = tuple[Any, ...]


def member_facts(
    connection: Connection,
    group_id: int,
    *,
    upper: datetime,
    lower: datetime,
    dated: bool,
    user_id: int | None = None,
    perfil: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[MemberFacts]:
    """Every membership of the group (or one user's, or one perfil's), ordered by login in the
    database's own order; with `limit`, one page of the logins after `after` (keyset paging on
    the username index: a page costs its own size, not the group's)."""
    dialect = connection.dialect.name
    paged = limit is not None
    statement = _statement(dialect, dated=dated, by_user=user_id is not None, by_perfil=perfil is not None, paged=paged)
    parameters: dict[str, Any] = {"group_id": group_id, "upper": upper}
    if dated:
        parameters["lower"] = lower
    if user_id is not None:
        parameters["user_id"] = user_id
    if perfil is not None:
        parameters["perfil"] = perfil
    if paged:
        parameters["after"] = "" if after is None else after
        parameters["limit"] = limit
    result = connection.execute(statement, parameters)
    # the driver's own tuples: every column is an int, a bool or text that needs no conversion
    # (see _statement), and 100,000 Row objects cost more than the values in them
    rows: list[MemberFacts] = list(result.cursor.fetchall())
    result.close()
    if dialect == "sqlite" and not paged:
        # SQLite compares text by its bytes (BINARY): UTF-8 bytes sort as code points, as Python's
        # str does; sorting 100,000 tuples here costs less than SQLite's temporary B-tree
        rows.sort(key=itemgetter(0))
    return rows


def _count_at(first_done: ColumnElement[Any], instant: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((first_done <= instant, 1), else_=0)), 0)


def _at_or_before(moment: ColumnElement[Any], instant: ColumnElement[Any]) -> ColumnElement[Any]:
    """1 when the moment is known and at or before the instant, else 0 (never NULL)."""
    return case((moment <= instant, literal(1)), else_=literal(0))


def _iso_day(day: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """A Date column as its YYYY-MM-DD text, read without a per-row date object."""
    if dialect == "sqlite":  # SQLAlchemy stores a Date in SQLite as that very text
        return type_coerce(day, String)
    return func.to_char(day, literal_column("'YYYY-MM-DD'"), type_=String)


@cache
def _statement(dialect: str, *, dated: bool, by_user: bool, by_perfil: bool, paged: bool) -> Select:  # type: ignore[type-arg]
    """Built once per variant; values come as bound parameters."""
    group_id = bindparam("group_id", type_=Integer)
    upper = bindparam("upper", type_=DateTime)
    lower = bindparam("lower", type_=DateTime)
    user_id = bindparam("user_id", type_=Integer)
    up, mp, m = unit_progress, member_progress, memberships

    joins = users.join(m, m.c.user_id == users.c.id).outerjoin(
        mp, and_(mp.c.user_id == m.c.user_id, mp.c.group_id == m.c.group_id)
    )
    if dated:
        per_user_query = select(
            up.c.user_id,
            _count_at(up.c.first_done, upper).label("done_upper"),
            _count_at(up.c.first_done, lower).label("done_lower"),
        ).where(up.c.group_id == group_id)
        if by_user:
            per_user_query = per_user_query.where(up.c.user_id == user_id)
        per_user = per_user_query.group_by(up.c.user_id).subquery("per_user")
        joins = joins.outerjoin(per_user, per_user.c.user_id == m.c.user_id)
        done_upper: ColumnElement[Any] = func.coalesce(per_user.c.done_upper, literal(0))
        done_lower: ColumnElement[Any] = func.coalesce(per_user.c.done_lower, literal(0))
    else:
        # a completion dated after now (rare) does not count yet: count that member's units at now
        at_now = (
            select(func.count())
            .where(up.c.group_id == m.c.group_id, up.c.user_id == m.c.user_id, up.c.first_done <= upper)
            .scalar_subquery()
        )
        done_upper = case((mp.c.last_done > upper, at_now), else_=func.coalesce(mp.c.units_done, literal(0)))
    columns: list[ColumnElement[Any]] = [
        users.c.username,
        type_coerce(m.c.administrador_grupo, Integer),
        type_coerce(m.c.estado, Integer),
        m.c.perfil,
        _iso_day(m.c.fecha_alta, dialect),
        type_coerce(m.c.responsable_grupo, Integer),
        _at_or_before(mp.c.first_interaction, upper),
        _at_or_before(mp.c.first_course_completion, upper),
        done_upper,
    ]
    if dated:
        columns += [
            _at_or_before(mp.c.first_interaction, lower),
            _at_or_before(mp.c.first_course_completion, lower),
            done_lower,
        ]
    query = select(*columns).select_from(joins).where(m.c.group_id == group_id)
    if by_user:
        query = query.where(m.c.user_id == user_id)
    if by_perfil:
        query = query.where(m.c.perfil == bindparam("perfil", type_=String))
    if paged:
        query = query.where(users.c.username > bindparam("after", type_=String))
        query = query.limit(bindparam("limit", type_=Integer))
    if paged or dialect != "sqlite":
        query = query.order_by(users.c.username)
    return query
