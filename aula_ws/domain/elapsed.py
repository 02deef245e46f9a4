"""The use_stats elapsed-time engine (CONTRACT.md section 3), in plain Python.

Per user, over activity-log events ordered by time from `timefrom` to now:
each event is credited the gap to the user's next event; a gap longer than
`threshold` is replaced by `last_ping_credit`; the last event is credited
`last_ping_credit`, never past now. Course time is the sum over the course's
events, module time over the unit's events, site time over all. Imported
`lesson_time` is added to its unit and course (and so to the site) as
recorded time.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ZERO = timedelta(0)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """One activity-log row: when, in which course (group id), in which unit (None: the course)."""

    time: datetime
    course: int
    unit: int | None = None


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
    ordered = sorted((event for event in events if event.time <= now), key=_by_time)
    courses: defaultdict[int, timedelta] = defaultdict(lambda: ZERO)
    units: defaultdict[int, timedelta] = defaultdict(lambda: ZERO)
    site = ZERO
    for event, credit in zip(ordered, _credits(ordered, now, settings)):
        site += credit
        courses[event.course] += credit
        if event.unit is not None:
            units[event.unit] += credit
    for record in recorded:
        spent = timedelta(seconds=max(record.seconds, 0))
        site += spent
        courses[record.course] += spent
        units[record.unit] += spent
    return Elapsed(site, dict(courses), dict(units))


def _credits(ordered: Sequence[ActivityEvent], now: datetime, settings: EngineSettings) -> Iterable[timedelta]:
    threshold, last_ping = settings.threshold, settings.last_ping_credit
    for current, following in zip(ordered, ordered[1:]):
        gap = following.time - current.time
        yield last_ping if gap > threshold else gap
    if ordered:
        yield min(last_ping, now - ordered[-1].time)


def _by_time(event: ActivityEvent) -> datetime:
    return event.time


def whole_minutes(spent: timedelta) -> int:
    """ELAPSED as MNET peers expect it: whole minutes, rounded down."""
    return spent // MINUTE
