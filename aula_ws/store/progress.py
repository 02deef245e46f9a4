"""The progress aggregate of a group, in one SQL statement.

Per member it returns the membership and the facts avance needs at two
instants (`upper`, `lower`): units completed, course completed, interacted.

Sessions are first aggregated per (user, unit) into the earliest session and
the earliest completion, then compared with the instants in CASE expressions.
That shape never puts a date bound in a join condition next to
`unit_id IN (SELECT ...)`, which SQLite 3.40 answers wrongly (see the
performance baselines, section 5).
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
)

from aula_ws.domain.progress import COMPLETING_STATUSES, COURSE_COMPLETED
from aula_ws.store.tables import (
    activity_log,
    course_statuses,
    lesson_sessions,
    memberships,
    units,
    users,
)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    username: str
    administrador_grupo: bool
    estado: bool
    perfil: str
    fecha_alta: date
    responsable_grupo: bool
    units_completed_upper: int
    units_completed_lower: int
    first_session: datetime | None
    first_course_status: datetime | None
    first_course_completion: datetime | None
    first_activity: datetime | None


def _count_at(first_done: ColumnElement[Any], instant: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((first_done <= instant, 1), else_=0)), 0)


def member_facts(
    connection: Connection,
    group_id: int,
    *,
    upper: datetime,
    lower: datetime,
    user_id: int | None = None,
    perfil: str | None = None,
) -> list[MemberFacts]:
    """Every membership of the group (or one user's, or one perfil's), ordered by login."""
    statement = _statement(by_user=user_id is not None, by_perfil=perfil is not None)
    parameters = {"group_id": group_id, "upper": upper, "lower": lower}
    if user_id is not None:
        parameters["user_id"] = user_id
    if perfil is not None:
        parameters["perfil"] = perfil
    return [MemberFacts(*row) for row in connection.execute(statement, parameters)]


# inline IN list: a list of values is an expanding parameter, re-rendered on every execution
_COMPLETING_INLINE: list[ColumnClause[Any]] = [literal_column(f"'{code}'") for code in sorted(COMPLETING_STATUSES)]


@cache
def _statement(*, by_user: bool, by_perfil: bool) -> Select:  # type: ignore[type-arg]
    """Built once per filter combination; values come as bound parameters."""
    group_id = bindparam("group_id", type_=Integer)
    upper = bindparam("upper", type_=DateTime)
    lower = bindparam("lower", type_=DateTime)
    user_id = bindparam("user_id", type_=Integer)

    s = lesson_sessions
    per_unit_query = select(
        s.c.user_id,
        func.min(s.c.status_date).label("first_session"),
        func.min(case((s.c.status.in_(_COMPLETING_INLINE), s.c.status_date))).label("first_done"),
    ).where(s.c.unit_id.in_(select(units.c.id).where(units.c.group_id == group_id)))
    if by_user:
        per_unit_query = per_unit_query.where(s.c.user_id == user_id)
    per_unit = per_unit_query.group_by(s.c.unit_id, s.c.user_id).subquery("per_unit")

    per_user = (
        select(
            per_unit.c.user_id,
            func.min(per_unit.c.first_session).label("first_session"),
            _count_at(per_unit.c.first_done, upper).label("done_upper"),
            _count_at(per_unit.c.first_done, lower).label("done_lower"),
        )
        .group_by(per_unit.c.user_id)
        .subquery("per_user")
    )

    cs = course_statuses
    course_query = select(
        cs.c.user_id,
        func.min(cs.c.status_date).label("first_status"),
        func.min(case((cs.c.status == COURSE_COMPLETED, cs.c.status_date))).label("first_completion"),
    ).where(cs.c.group_id == group_id)
    if by_user:
        course_query = course_query.where(cs.c.user_id == user_id)
    course = course_query.group_by(cs.c.user_id).subquery("course")

    al = activity_log
    activity_query = select(al.c.user_id, func.min(al.c.time).label("first_activity")).where(al.c.group_id == group_id)
    if by_user:
        activity_query = activity_query.where(al.c.user_id == user_id)
    activity = activity_query.group_by(al.c.user_id).subquery("activity")

    m = memberships
    query = (
        select(
            users.c.username,
            m.c.administrador_grupo,
            m.c.estado,
            m.c.perfil,
            m.c.fecha_alta,
            m.c.responsable_grupo,
            func.coalesce(per_user.c.done_upper, literal(0)),
            func.coalesce(per_user.c.done_lower, literal(0)),
            per_user.c.first_session,
            course.c.first_status,
            course.c.first_completion,
            activity.c.first_activity,
        )
        .select_from(
            m.join(users, users.c.id == m.c.user_id)
            .outerjoin(per_user, per_user.c.user_id == m.c.user_id)
            .outerjoin(course, course.c.user_id == m.c.user_id)
            .outerjoin(activity, activity.c.user_id == m.c.user_id)
        )
        .where(m.c.group_id == group_id)
        .order_by(users.c.username)
    )
    if by_user:
        query = query.where(m.c.user_id == user_id)
    if by_perfil:
        query = query.where(m.c.perfil == bindparam("perfil", type_=String))
    return query
