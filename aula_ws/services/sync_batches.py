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
    cohorts: dict[str, set[Any]] = field(default_factory=dict)  # id, idnumber or name -> values
    units: bool = False
    memberships: bool = False
    profile_fields: bool = False
    course_groups: bool = False  # the groups inside the loaded courses, and the loaded users' places in them

    def user(self, name: str, value: Any) -> None:
        self.users.setdefault(name, set()).add(value)

    def group(self, name: str, value: Any) -> None:
        self.groups.setdefault(name, set()).add(value)

    def cohort(self, name: str, value: Any) -> None:
        self.cohorts.setdefault(name, set()).add(value)


@dataclass(frozen=True)
class KindSpec:
    read: Callable[..., Any]
    plan: Callable[..., Any]
    wants: Callable[[list[Any], PlanContext], Wants]
    has_header: bool = True


def _user_wants(lines: list[people.UserLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True, course_groups=True, profile_fields=True)
    for line in lines:
        wants.user(*people.user_lookup(line, ctx))
        wants.user("username", line.username)
        if line.idnumber:
            wants.user("idnumber", line.idnumber)
        if line.email:
            wants.user("email", line.email)
        for slot in line.courses:
            wants.group(ctx.options.courses_primaryidentity, slot.course)
        if line.cohort:
            wants.cohort("name", line.cohort)
        if line.cohortid:
            wants.cohort("idnumber", line.cohortid)
    return wants


def _enrolment_wants(lines: list[people.EnrolmentLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True, course_groups=True)
    for line in lines:
        wants.user(ctx.options.enrols_useridentifier, line.user)
        wants.group(ctx.options.enrols_courseidentifier, line.course)
    return wants


def _cohort_wants(lines: list[people.CohortLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True, course_groups=True)
    for line in lines:
        wants.cohort(ctx.options.cohorts_cohortidentifier, line.key)
        for name, value in (("idnumber", line.idnumber), ("name", line.name)):
            if value:
                wants.cohort(name, value)
        if line.user:
            wants.user(ctx.options.cohorts_useridentifier, line.user)
    return wants


def _binding_wants(lines: list[people.BindingLine], ctx: PlanContext) -> Wants:
    wants = Wants(memberships=True, course_groups=True)
    for line in lines:
        wants.cohort(ctx.options.cohorts_cohortidentifier, line.cohort)
        wants.group(ctx.options.cohorts_courseidentifier, line.course)
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
        wants.group(ctx.options.courses_filedeleteidentifier, line)
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
    cohort_rows = store.load_cohorts(connection, wants.cohorts) if wants.cohorts else []
    cohort_ids = [cohort_id for cohort_id, _ in cohort_rows]
    members = store.load_cohort_members(connection, cohort_ids) if cohort_ids else []
    bindings = store.load_cohort_courses(connection, cohort_ids) if cohort_ids else []
    for (_, user_id), _ in members:
        wants.user("id", user_id)
    for (_, group_id), _ in bindings:
        wants.group("id", group_id)
    user_rows = store.load_users(connection, wants.users)
    group_rows = store.load_groups(connection, wants.groups)
    group_ids = [group_id for group_id, _ in group_rows]
    user_ids = [user_id for user_id, _ in user_rows]
    course_groups, course_group_members = (
        store.load_course_groups(connection, group_ids, user_ids) if wants.course_groups else ([], [])
    )
    return Snapshot(
        users=Rows(user_rows),
        groups=Rows(group_rows),
        units=Rows(store.load_units(connection, group_ids) if wants.units else []),
        memberships=Rows(store.load_memberships(connection, user_ids, group_ids) if wants.memberships else []),
        cohorts=Rows(cohort_rows),
        cohort_members=Rows(members),
        cohort_courses=Rows(bindings),
        profile_fields=Rows(store.load_profile_fields(connection, user_ids) if wants.profile_fields else []),
        course_groups=Rows(course_groups),
        course_group_members=Rows(course_group_members),
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
        profile_fields=snap.profile_fields.changes(),
        course_groups=snap.course_groups.changes(),
        course_group_members=snap.course_group_members.changes(),
        suspension_changed=snap.suspension_changed,
    )
    store.write_batch(connection, changes, ctx.now)
