"""Planning a batch of statistics lines against what the platform already holds (pure).

Given the lines of a batch and look-ups of the names they use, decide for each
line: rejected (why), or an insert, an update of an existing record, an
enrolment; plus its warnings. Lines are decided in file order, each seeing the
effect of the ones before it, as if applied one by one.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aula_ws.domain.csv_rows import RowError
from aula_ws.domain.statistics_rows import (
    ActivityLine,
    CourseLine,
    LessonColumns,
    LessonLine,
    Warnings,
    check_lesson_against_unit,
    start_of_day_utc,
)

ON_EXISTING = ("new-session", "reject", "update")
ENROL_PERFIL = "A"


@dataclass
class Lookups:
    """What the database holds for the names and keys of one batch."""

    users: dict[str, int]
    groups: dict[str, int]
    units: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)  # -> (id, type)
    members: set[tuple[int, int]] = field(default_factory=set)
    latest: dict[tuple[Any, ...], int] = field(default_factory=dict)  # key -> latest record id
    activity: set[tuple[Any, ...]] = field(default_factory=set)


@dataclass(frozen=True)
class Options:
    on_existing: str = "new-session"
    enrol: bool = False
    zone: ZoneInfo = ZoneInfo("UTC")
    now: datetime = datetime(1970, 1, 1)


@dataclass
class BatchPlan:
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    # the usual batch's inserts column by column (one list per field of an insert), not in `inserts`
    insert_columns: list[list[Any]] | None = None
    updates: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    enrolments: list[tuple[int, int, date]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (index in batch, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    added: int = 0
    updated: int = 0


class _Planner:
    def __init__(self, lookups: Lookups, options: Options):
        self.lookups = lookups
        self.options = options
        self.plan = BatchPlan()
        self.pending: dict[tuple[Any, ...], int] = {}  # key -> index in plan.inserts

    def user_and_group(self, login: str, group: str) -> tuple[int, int]:
        user_id = self.lookups.users.get(login)
        if user_id is None:
            raise RowError(f'unknown user "{login}"')
        group_id = self.lookups.groups.get(group)
        if group_id is None:
            raise RowError(f'unknown course (crsvname) "{group}"')
        return user_id, group_id

    def check_membership(self, user_id: int, group_id: int, login: str, group: str) -> bool:
        """Whether the line needs an enrolment; RowError when it needs one and may not have it."""
        if (user_id, group_id) in self.lookups.members:
            return False
        if not self.options.enrol:
            raise RowError(f'"{login}" is not enrolled in "{group}" (the enrol option enrols such users)')
        return True

    def enrol(self, user_id: int, group_id: int, since: date) -> None:
        self.lookups.members.add((user_id, group_id))
        self.plan.enrolments.append((user_id, group_id, since))

    def status_moment(self, day: date | None) -> datetime:
        return self.options.now if day is None else start_of_day_utc(day, self.options.zone)

    def today(self) -> date:
        return self.options.now.replace(tzinfo=ZoneInfo("UTC")).astimezone(self.options.zone).date()

    def record(self, key: tuple[Any, ...], values: tuple[Any, ...], subject: str) -> None:
        """Insert, or apply the on-existing policy when a record exists for `key`."""
        pending = self.pending.get(key)
        existing = self.lookups.latest.get(key)
        if (pending is None and existing is None) or self.options.on_existing == "new-session":
            self.pending[key] = len(self.plan.inserts)
            self.plan.inserts.append(values)
            self.plan.added += 1
            return
        if self.options.on_existing == "reject":
            raise RowError(f"a status already exists for this user and {subject} (on-existing: reject)")
        if pending is not None:
            self.plan.inserts[pending] = values
        else:
            assert existing is not None
            self.plan.updates[existing] = values
        self.plan.updated += 1


def plan_lessons(lines: list[LessonLine | RowError], lookups: Lookups, options: Options) -> BatchPlan:
    planner = _Planner(lookups, options)
    for index, line in enumerate(lines):
        warnings = None
        try:
            if isinstance(line, RowError):
                raise line
            user_id, group_id = planner.user_and_group(line.login, line.group)
            unit = lookups.units.get((group_id, line.unit))
            if unit is None:
                raise RowError(f'unknown lesson (lsnvname) "{line.unit}" in course "{line.group}"')
            unit_id, unit_type = unit
            ilt_present = None
            if line.unit_type != unit_type or line.ilt_present:  # the usual line skips this
                warnings = Warnings()
                ilt_present = check_lesson_against_unit(line, unit_type, warnings)
            moment = planner.status_moment(line.status_date)
            enrol = planner.check_membership(user_id, group_id, line.login, line.group)
            planner.record(
                (user_id, unit_id),
                (user_id, unit_id, line.status, moment, line.score, line.time_spent, ilt_present),
                "lesson",
            )
            if enrol:
                planner.enrol(user_id, group_id, line.status_date or planner.today())
        except RowError as error:
            planner.plan.rejected.append((index, str(error)))
        if warnings is not None:
            planner.plan.warnings.extend((index, w) for w in warnings.messages)
    return planner.plan


def plan_usual_lessons(batch: LessonColumns, lookups: Lookups, options: Options) -> BatchPlan | None:
    """The plan of the usual batch of a large file, column by column: new sessions only, every
    line's user, course and unit known, the user a member, the unit's type the line's; None for
    any other batch (planned line by line by plan_lessons: the same plan, with the reasons)."""
    if options.on_existing != "new-session" or not batch.login:
        return None
    try:
        user_ids = list(map(lookups.users.__getitem__, batch.login))
        group_ids = list(map(lookups.groups.__getitem__, batch.group))
        unit_ids, unit_types = zip(
            *map(lookups.units.__getitem__, zip(group_ids, batch.unit, strict=True)), strict=True
        )
    except KeyError:
        return None
    if list(unit_types) != batch.unit_type or not lookups.members.issuperset(zip(user_ids, group_ids, strict=True)):
        return None
    planner = _Planner(lookups, options)
    moments = {day: planner.status_moment(day) for day in set(batch.status_date)}
    columns = [
        user_ids,
        list(unit_ids),
        batch.status,
        list(map(moments.__getitem__, batch.status_date)),
        batch.score,
        batch.time_spent,
        [None] * len(user_ids),  # no ILT presence
    ]
    return BatchPlan(insert_columns=columns, added=len(user_ids))


def plan_courses(lines: list[CourseLine | RowError], lookups: Lookups, options: Options) -> BatchPlan:
    planner = _Planner(lookups, options)
    for index, line in enumerate(lines):
        try:
            if isinstance(line, RowError):
                raise line
            user_id, group_id = planner.user_and_group(line.login, line.group)
            moment = planner.status_moment(line.status_date)
            enrol = planner.check_membership(user_id, group_id, line.login, line.group)
            planner.record((user_id, group_id), (user_id, group_id, line.status, moment), "course")
            if enrol:
                planner.enrol(user_id, group_id, line.enrolment_date or line.status_date or planner.today())
        except RowError as error:
            planner.plan.rejected.append((index, str(error)))
    return planner.plan


def plan_activity(lines: list[ActivityLine | RowError], lookups: Lookups, options: Options) -> BatchPlan:
    """Activity is appended; an exact duplicate (in the database or earlier in the file) is skipped
    with a warning, so a file can be imported twice safely."""
    planner = _Planner(lookups, options)
    seen = lookups.activity
    for index, line in enumerate(lines):
        try:
            if isinstance(line, RowError):
                raise line
            user_id, group_id = planner.user_and_group(line.login, line.group)
            unit_id = None
            if line.unit is not None:
                unit = lookups.units.get((group_id, line.unit))
                if unit is None:
                    raise RowError(f'unknown lesson (lsnvname) "{line.unit}" in course "{line.group}"')
                unit_id = unit[0]
            key = (user_id, group_id, unit_id, line.time, line.action)
            if key in seen:
                planner.plan.warnings.append((index, "exact duplicate of an activity already recorded: skipped"))
                continue
            seen.add(key)
            planner.plan.inserts.append(key)
            planner.plan.added += 1
        except RowError as error:
            planner.plan.rejected.append((index, str(error)))
    return planner.plan
