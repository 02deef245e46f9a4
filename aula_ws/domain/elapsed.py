"""The use_stats elapsed-time engine (CONTRACT.md section 3), in plain Python.

Per user, over activity-log events ordered by time from `timefrom` to now:
each event is credited the gap to the user's next event; a gap longer than
`threshold` is replaced by `last_ping_credit`; the last event is credited
`last_ping_credit`, never past now. Course time is the sum over the course's
events, module time over the unit's events, site time over all. Imported
`lesson_time` is added to its unit and course (and so to the site) as
recorded time.

Sessions, as the block's engine (use_stats_aggregate_logs) reads them:
- `loggedout` ends the session: the event before it is credited the gap up to
  it, the logout itself nothing (no last-ping credit after a known end);
- `loggedin` starts one: it is credited as any event (the time until the
  user's next event), and the logout before it bounds the previous session;
- `graded` (a teacher grading writes it on the student) is not the user's
  activity: it is skipped, so it neither splits a gap nor extends the time.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import NamedTuple

ZERO = timedelta(0)
MINUTE = timedelta(minutes=1)
_TIME = itemgetter(0)


LOGGED_IN, LOGGED_OUT, GRADED = "loggedin", "loggedout", "graded"


class ActivityEvent(NamedTuple):
    """One activity-log row: when, in which course (group id), in which unit (None: the course),
    what happened. Any (time, course, unit, action) sequence will do, a database row included."""

    time: datetime
    course: int
    unit: int | None = None
    action: str = ""


@dataclass(frozen=True, slots=True)
class RecordedTime:
    """Imported `lesson_time` of one lesson session: seconds spent in a unit of a course."""

    course: int
    unit: int
    seconds: int


@dataclass(frozen=True)
class EngineSettings:
    threshold: timedelta = timedelta(minutes=60)
    last_ping_credit: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.threshold <= ZERO or self.last_ping_credit < ZERO:
            raise ValueError("the threshold must be positive and the last-ping credit not negative")
        if self.last_ping_credit > self.threshold:
            raise ValueError("the last-ping credit cannot exceed the threshold")


@dataclass
class Elapsed:
    """Time credited to the whole site, to each course (group id) and to each unit (unit id)."""

    site: timedelta = ZERO
    courses: dict[int, timedelta] = field(default_factory=dict)
    units: dict[int, timedelta] = field(default_factory=dict)


def elapsed_time(
    events: Iterable[ActivityEvent],
    now: datetime,
    settings: EngineSettings = EngineSettings(),
    recorded: Iterable[RecordedTime] = (),
) -> Elapsed:
    """Credit each event up to `now`; events after `now` have not happened yet and count nothing."""
    timeline = sorted((event for event in events if event[3] != GRADED), key=_TIME)
    timeline = timeline[: bisect_right(timeline, now, key=_TIME)]
    threshold, last_ping = settings.threshold, settings.last_ping_credit
    courses: dict[int, timedelta] = {}
    units: dict[int, timedelta] = {}
    site = ZERO
    following: list[datetime | None] = [event[0] for event in timeline[1:]]
    following.append(None)  # the last event: no next one (no events: one None, hence strict=False)
    for (time, course, unit, action), next_time in zip(timeline, following, strict=False):
        if action == LOGGED_OUT:
            continue  # the session ended here: nothing is credited after it
        if next_time is None:
            credit = min(last_ping, now - time)
        else:
            gap = next_time - time
            credit = last_ping if gap > threshold else gap
        site += credit
        courses[course] = courses.get(course, ZERO) + credit
        if unit is not None:
            units[unit] = units.get(unit, ZERO) + credit
    for record in recorded:
        spent = timedelta(seconds=max(record.seconds, 0))
        site += spent
        courses[record.course] = courses.get(record.course, ZERO) + spent
        units[record.unit] = units.get(record.unit, ZERO) + spent
    return Elapsed(site, courses, units)


def whole_minutes(spent: timedelta) -> int:
    """ELAPSED as MNET peers expect it: whole minutes, rounded down."""
    return spent // MINUTE
