"""Use cases: use_stats get_stats and get_scores (CONTRACT.md section 3).

Who may see what (Moodle declares these capabilities but never checks them;
we do): the calling user is (username, home), as Moodle matches it: a user
with that username whose home is the caller's `remoteuserhostroot` (our own
root: a local user; a peer's root: a user who comes from that peer), else
501; users may read their own statistics; reading another user's needs the
caller to be a site admin, or a member with perfil D, T or C of a group the
target belongs to, and then only those groups' courses and units are
reported (else 510).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from sqlalchemy import Connection, Engine

from aula_ws.domain.elapsed import ActivityEvent, EngineSettings, RecordedTime, elapsed_time, whole_minutes
from aula_ws.errors import CallerRefused, HostRefused, RecordMissing, StatsForbidden, UseStatsRefused
from aula_ws.services.clock import utc_now
from aula_ws.store import mnet
from aula_ws.store.unit_of_work import Reading
from aula_ws.store.users import UserRecord, find_user

SITE, COURSE, MODULE = 1, 2, 3
OVERSEER_PERFILES = ("D", "T", "C")
COURSE_ID_FIELDS = ("id", "shortname", "idnumber")
SCORE_SCOPES = ("notes/global",)


@dataclass(frozen=True)
class Caller:
    """MNET's callinguser struct."""

    username: str
    remoteuserhostroot: str
    remotehostroot: str


@dataclass(frozen=True)
class Person:
    username: str
    firstname: str
    lastname: str


@dataclass(frozen=True)
class ModuleLine:
    name: str
    type: str
    idnumber: str
    elapsed: int  # whole minutes


@dataclass(frozen=True)
class CourseLine:
    name: str
    shortname: str
    idnumber: str
    elapsed: int  # whole minutes
    modules: tuple[ModuleLine, ...] = ()  # its units, with scope 3


@dataclass(frozen=True)
class StatsReport:
    """`courses` with scope 2 and 3 (each with its `modules` with scope 3); `empty`: no activity
    since `timefrom`."""

    user: Person
    timefrom: int
    elapsed: int
    scope: int
    courses: list[CourseLine]
    empty: bool = False


@dataclass(frozen=True)
class ScoreLine:
    name: str
    shortname: str
    idnumber: str
    score: Decimal | None  # two decimals; None when no unit has a score


@dataclass(frozen=True)
class ScoresReport:
    user: Person
    courses: list[ScoreLine]


def authenticate_caller(engine: Engine, caller: Caller, signing_host: str | None, own_root: str) -> None:
    """501 for an empty or unknown username (at the caller's home), 500 for a calling host that
    is not a registered peer (or not the one that signed the call)."""
    with Reading(engine) as uow:
        _local_caller(uow.connection, caller, signing_host, own_root)


def get_stats(
    engine: Engine,
    caller: Caller,
    target: str,
    scope: int,
    timefrom: int,
    engine_settings: EngineSettings = EngineSettings(),
    signing_host: str | None = None,
    now: Callable[[], datetime] = utc_now,
    own_root: str = "",
) -> StatsReport:
    """Elapsed time of `target` since `timefrom` (Unix seconds): the site (scope 1), plus each
    course (2), plus each unit (3). ELAPSED is whole minutes, rounded down."""
    if scope not in (SITE, COURSE, MODULE):
        raise UseStatsRefused(f"Unknown stats scope {scope!r} (1 site, 2 course, 3 module).")
    current = now()
    since = datetime.fromtimestamp(max(timefrom, 0), UTC).replace(tzinfo=None)
    with Reading(engine) as uow:
        connection = uow.connection
        target_user, visible = _authorised(connection, caller, target, signing_host, own_root)
        events = mnet.activity_rows(connection, target_user.id, since, current)
        recorded = [
            RecordedTime(group_id, unit_id, int(seconds))
            for group_id, unit_id, seconds in mnet.recorded_time_rows(connection, target_user.id, since, current)
        ]
        # the rows are read as the events they are: (time, course, unit, action), by position or by name
        elapsed = elapsed_time(cast("list[ActivityEvent]", events), current, engine_settings, recorded)
        course_times = {c: t for c, t in elapsed.courses.items() if visible is None or c in visible}
        unit_times = elapsed.units
        courses = mnet.courses_by_id(connection, course_times) if scope >= COURSE else {}
        units = mnet.units_by_id(connection, unit_times) if scope >= MODULE else {}
    person = _person(target_user)
    if not course_times:
        return StatsReport(person, timefrom, 0, scope, [], empty=True)
    site = elapsed.site if visible is None else sum(course_times.values(), timedelta(0))
    course_units: dict[int, list[mnet.UnitRecord]] = {}
    for unit in sorted(units.values(), key=lambda u: (u.position, u.code)):
        course_units.setdefault(unit.group_id, []).append(unit)
    course_lines = [
        CourseLine(
            course.fullname,
            course.shortname,
            course.idnumber,
            whole_minutes(course_times[course.id]),
            tuple(
                ModuleLine(unit.name, unit.type, unit.code, whole_minutes(unit_times[unit.id]))
                for unit in course_units.get(course.id, [])
            ),
        )
        for course in sorted(courses.values(), key=lambda c: c.shortname)
    ]
    return StatsReport(person, timefrom, whole_minutes(site), scope, course_lines)


def get_scores(
    engine: Engine,
    caller: Caller,
    target: str,
    scorescope: str = "notes/global",
    courseidfield: str = "shortname",
    courseidentifier: str = "",
    signing_host: str | None = None,
    own_root: str = "",
) -> ScoresReport:
    """For the course named by `courseidentifier` (or each of the user's courses when empty):
    the mean over the course's units that have a score of the user's best score, two decimals."""
    if scorescope not in SCORE_SCOPES:
        raise UseStatsRefused(f"Unknown score scope {scorescope!r} (notes/global).")
    if courseidfield not in COURSE_ID_FIELDS:
        raise UseStatsRefused(f"Unknown course id field {courseidfield!r} (id, shortname, idnumber).")
    with Reading(engine) as uow:
        connection = uow.connection
        target_user, visible = _authorised(connection, caller, target, signing_host, own_root)
        identifier = str(courseidentifier).strip()
        if identifier:
            courses = _named_courses(connection, courseidfield, identifier)
            if visible is not None and not any(course.id in visible for course in courses):
                raise StatsForbidden("Local user's identity has no capability to see this course.")
        else:
            courses = mnet.member_courses(connection, target_user.id)
        courses = [c for c in courses if visible is None or c.id in visible]
        scores = mnet.best_scores(connection, target_user.id, [c.id for c in courses])
    lines = [
        ScoreLine(course.fullname, course.shortname, course.idnumber, _mean(scores.get(course.id, [])))
        for course in sorted(courses, key=lambda c: c.shortname)
    ]
    return ScoresReport(_person(target_user), lines)


def _local_caller(connection: Connection, caller: Caller, signing_host: str | None, own_root: str) -> UserRecord:
    if not caller.username.strip():
        raise CallerRefused("Empty username.")
    if mnet.find_peer(connection, caller.remotehostroot.rstrip("/")) is None:
        raise HostRefused("Calling host is not registered. Check MNET configuration")
    if signing_host is not None and caller.remotehostroot.rstrip("/") != signing_host:
        raise HostRefused("Calling host is not the host that signed the call.")
    user = find_user(connection, caller.username)
    if user is None or user.suspended or not _at_home(user, caller, own_root):
        raise CallerRefused("Calling user has no local account. Register remote user first")
    return user


def _at_home(user: UserRecord, caller: Caller, own_root: str) -> bool:
    """Whether the user's home is the caller's remoteuserhostroot (ours for a local user)."""
    claimed = caller.remoteuserhostroot.strip().rstrip("/")
    home = user.mnethost or own_root.rstrip("/")
    return bool(claimed) and claimed == home


def _authorised(
    connection: Connection, caller: Caller, target: str, signing_host: str | None, own_root: str
) -> tuple[UserRecord, set[int] | None]:
    """The target user and the groups the caller may see of it (None: everything)."""
    calling_user = _local_caller(connection, caller, signing_host, own_root)
    target_user = find_user(connection, str(target))
    if target_user is None:
        raise RecordMissing("Target user does not exist.")
    if calling_user.id == target_user.id or calling_user.site_admin:
        return target_user, None
    visible = mnet.overseen_groups(connection, calling_user.id, target_user.id, OVERSEER_PERFILES)
    if not visible:
        raise StatsForbidden("Local user's identity has no capability to run")
    return target_user, visible


def _named_courses(connection: Connection, field: str, identifier: str) -> list[mnet.CourseRecord]:
    if field == "id":
        # ASCII digits of a database integer: str.isdigit() takes "١٢" and 40 digits overflow the column
        if not re.fullmatch("[0-9]{1,10}", identifier) or int(identifier) >= 2**31:
            raise RecordMissing("Unknown course.")
        courses = mnet.courses_where(connection, field, int(identifier))
    else:
        courses = mnet.courses_where(connection, field, identifier)
    if not courses:
        raise RecordMissing("Unknown course.")
    return courses


def _person(user: UserRecord) -> Person:
    return Person(user.username, user.firstname, user.lastname)


def _mean(best: list[float]) -> Decimal | None:
    if not best:
        return None
    total = sum((Decimal(str(score)) for score in best), Decimal(0))
    return (total / len(best)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
