"""The shell around the sync planners: load what a batch names, plan it, apply the changes.

Each file kind names its reader, its planner and what it needs loaded. The
batch's changes go to the store in one call (store/sync.py `write_batch`),
which applies them in an order that makes the order of lines inside a batch
never matter to the database.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from aula_ws.store import sync as store
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
    cohort_rows = (
        store.load_cohorts(connection, wants.cohorts, wants.cohort_ids) if wants.cohorts or wants.cohort_ids else []
    )
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
    """Writes what the planners changed (store.write_batch picks the order the keys need)."""
    changes = store.BatchChanges(
        users=snap.users.changes(),
        groups=snap.groups.changes(),
        units=snap.units.changes(),
        memberships=snap.memberships.changes(),
        cohorts=snap.cohorts.changes(),
        cohort_members=snap.cohort_members.changes(),
        cohort_courses=snap.cohort_courses.changes(),
        cohort_ids={
            idnumber: row["id"] for idnumber, row in snap.cohorts.original.items() if isinstance(idnumber, str)
        },
        suspension_changed=snap.suspension_changed,
    )
    store.write_batch(connection, changes, ctx.now)
