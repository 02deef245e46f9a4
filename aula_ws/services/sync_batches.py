"""The shell around the sync planners: load what a batch names, plan it, apply the changes.

Each file kind names its reader, its planner and what it needs loaded. The
batch's changes are applied children-deletes first, then parents, then new
rows, so the order of lines inside a batch never matters to the database.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from aula_ws.store import sync as store
from aula_ws.store.tables import (
    cohort_courses,
    cohort_members,
    cohorts,
    groups,
    memberships,
    units,
    users,
)
from aula_ws.sync import plan_courses as courses
from aula_ws.sync import plan_people as people
from aula_ws.sync.lines import PlanContext
from aula_ws.sync.snapshot import Rows, Snapshot


@dataclass
class Wants:
    users: dict[str, set[Any]] = field(default_factory=dict)  # field -> values
    groups: dict[str, set[Any]] = field(default_factory=dict)
    cohorts: set[str] = field(default_factory=set)
    cohort_ids: set[int] = field(default_factory=set)
    units: bool = False
    memberships: bool = False

    def user(self, name: str, value: Any) -> None:
        self.users.setdefault(name, set()).add(value)

    def group(self, name: str, value: Any) -> None:
        self.groups.setdefault(name, set()).add(value)


@dataclass(frozen=True)
class KindSpec:
    read: Callable[..., Any]
    plan: Callable[..., Any]
    wants: Callable[[list[Any], PlanContext], Wants]
    has_header: bool = True


def _user_wants(lines: list[people.UserLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True)
    for line in lines:
        wants.user(ctx.user_identity, line.identity)
        wants.user("username", line.username)
        for course, _ in line.courses:
            wants.group(ctx.group_identity, course)
        if line.cohort:
            wants.cohorts.add(line.cohort)
    return wants


def _enrolment_wants(lines: list[people.EnrolmentLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True)
    for line in lines:
        wants.user(ctx.user_identity, line.user)
        wants.group(ctx.group_identity, line.course)
    return wants


def _cohort_wants(lines: list[people.CohortLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True)
    for line in lines:
        if line.idnumber:
            wants.cohorts.add(line.idnumber)
        elif line.id is not None:
            wants.cohort_ids.add(line.id)
        if line.user:
            wants.user(ctx.user_identity, line.user)
    return wants


def _binding_wants(lines: list[people.BindingLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True)
    for line in lines:
        wants.cohorts.add(line.cohort)
        wants.group(ctx.group_identity, line.course)
    return wants


def _course_wants(lines: list[courses.CourseLine], ctx: PlanContext) -> Wants:
    wants = Wants()
    for line in lines:
        wants.group("shortname", line.shortname)
        if line.id is not None:
            wants.group("id", line.id)
        if line.idnumber:
            wants.group("idnumber", line.idnumber)
    return wants


def _deletion_wants(lines: list[str], ctx: PlanContext) -> Wants:
    wants = Wants()
    for line in lines:
        wants.group(ctx.group_identity, line)
    return wants


def _lesson_wants(lines: list[courses.LessonLine], ctx: PlanContext) -> Wants:
    wants = Wants(units=True)
    for line in lines:
        wants.group("shortname", line.course)
    return wants


KINDS: dict[str, KindSpec] = {
    "users": KindSpec(people.read_user, people.plan_user, _user_wants),
    "courses": KindSpec(courses.read_course, courses.plan_course, _course_wants),
    "deletecourses": KindSpec(courses.read_deletion, courses.plan_deletion, _deletion_wants, has_header=False),
    "lessons": KindSpec(courses.read_lesson, courses.plan_lesson, _lesson_wants),
    "enrolments": KindSpec(people.read_enrolment, people.plan_enrolment, _enrolment_wants),
    "cohorts": KindSpec(people.read_cohort, people.plan_cohort, _cohort_wants),
    "cohortscourses": KindSpec(people.read_binding, people.plan_binding, _binding_wants),
}


def load_snapshot(connection: Connection, wants: Wants, profiles: frozenset[str]) -> Snapshot:
    cohort_rows = store.load_cohorts(connection, wants.cohorts, wants.cohort_ids) if wants.cohorts or wants.cohort_ids else []
    cohort_ids = {row["id"]: idnumber for idnumber, row in cohort_rows}
    members = store.load_cohort_members(connection, cohort_ids) if cohort_ids else []
    bindings = store.load_cohort_courses(connection, cohort_ids) if cohort_ids else []
    for (_, user_id), _ in members:
        wants.user("id", user_id)
    for (_, group_id), _ in bindings:
        wants.group("id", group_id)
    user_rows = store.load_users(connection, wants.users)
    group_rows = store.load_groups(connection, wants.groups)
    group_ids = [group_id for group_id, _ in group_rows]
    return Snapshot(
        users=Rows(user_rows),
        groups=Rows(group_rows),
        units=Rows(store.load_units(connection, group_ids) if wants.units else []),
        memberships=Rows(
            store.load_memberships(connection, [u for u, _ in user_rows], group_ids) if wants.memberships else []
        ),
        cohorts=Rows(cohort_rows),
        cohort_members=Rows(members),
        cohort_courses=Rows(bindings),
        profiles=profiles,
    )


def apply_snapshot(connection: Connection, snap: Snapshot, ctx: PlanContext) -> None:
    """Writes what the planners changed: deletes (children first), updates, inserts."""
    user_changes, group_changes = snap.users.changes(), snap.groups.changes()
    cohort_changes, unit_changes = snap.cohorts.changes(), snap.units.changes()
    member_changes, binding_changes = snap.cohort_members.changes(), snap.cohort_courses.changes()
    membership_changes = snap.memberships.changes()
    cohort_id = {k: row["id"] for k, row in snap.cohorts.original.items()}

    store.delete_keys(connection, memberships, ("user_id", "group_id"), membership_changes.deletes)  # type: ignore[arg-type]
    store.delete_keys(connection, cohort_members, ("cohort_id", "user_id"), [(cohort_id[c], u) for c, u in member_changes.deletes])  # type: ignore[misc]
    store.delete_keys(connection, cohort_courses, ("cohort_id", "group_id"), [(cohort_id[c], g) for c, g in binding_changes.deletes])  # type: ignore[misc]
    store.delete_keys(connection, units, ("group_id", "code"), unit_changes.deletes)  # type: ignore[arg-type]
    store.delete_keys(connection, users, ("id",), [(k,) for k in user_changes.deletes])
    store.delete_keys(connection, groups, ("id",), [(k,) for k in group_changes.deletes])

    store.update_rows(connection, users, ("id",), [((k,), f) for k, f in user_changes.updates])
    new_users = store.insert_users(connection, [row for _, row in user_changes.inserts]) if user_changes.inserts else {}
    store.update_rows(connection, groups, ("id",), [((k,), f) for k, f in group_changes.updates])
    new_groups = {row["shortname"]: store.insert_group(connection, row) for _, row in group_changes.inserts}
    store.update_rows(connection, cohorts, ("idnumber",), [((k,), f) for k, f in cohort_changes.updates])
    cohort_id.update(store.insert_cohorts(connection, cohort_changes.inserts, ctx.now))  # type: ignore[arg-type]

    def user_id(key: Any) -> int:
        return new_users[key[1]] if isinstance(key, tuple) else key  # type: ignore[no-any-return]

    def group_id(key: Any) -> int:
        return new_groups[key[1]] if isinstance(key, tuple) else key  # type: ignore[no-any-return]

    store.update_rows(connection, units, ("group_id", "code"), unit_changes.updates)  # type: ignore[arg-type]
    store.insert_units(connection, [(group_id(g), c, row) for (g, c), row in unit_changes.inserts])  # type: ignore[misc]
    store.update_rows(
        connection, memberships, ("user_id", "group_id"),
        [((user_id(u), group_id(g)), f) for (u, g), f in membership_changes.updates],  # type: ignore[misc]
    )
    store.insert_memberships(
        connection, [(user_id(u), group_id(g), row) for (u, g), row in membership_changes.inserts]  # type: ignore[misc]
    )
    store.insert_pairs(
        connection, cohort_members, ("cohort_id", "user_id"),
        [(cohort_id[c], user_id(u)) for (c, u), _ in member_changes.inserts],  # type: ignore[misc]
    )
    store.update_rows(
        connection, cohort_courses, ("cohort_id", "group_id"),
        [((cohort_id[c], group_id(g)), f) for (c, g), f in binding_changes.updates],  # type: ignore[misc]
    )
    store.insert_pairs(
        connection, cohort_courses, ("cohort_id", "group_id", "perfil"),
        [(cohort_id[c], group_id(g), row["perfil"]) for (c, g), row in binding_changes.inserts],  # type: ignore[misc]
    )
    if snap.suspension_changed:
        store.refresh_estado(connection, ctx.now, [user_id(k) for k in snap.suspension_changed])
