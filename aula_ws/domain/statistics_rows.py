"""The statistics import files, line by line (CONTRACT.md section 4, seed 001).

Pure rules over text values: which columns each file kind has, how each value
is read, and what a line means. A line either becomes a record or is rejected
with a reason; warnings never reject a line.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from itertools import repeat
from typing import NamedTuple
from zoneinfo import ZoneInfo

from aula_ws.domain.contract_params import LOGIN_PATTERN
from aula_ws.domain.csv_rows import Columns, HeaderError, RowError, match_header, required
from aula_ws.domain.file_input import xml_problem

UNIT_TYPES = frozenset("ALWTE")
LESSON_STATUSES = frozenset("CPFIN")
COURSE_STATUSES = frozenset("NIC")
DELIMITERS = ("\t", ";", ",")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool


def _columns(spec: str) -> tuple[Column, ...]:
    return tuple(Column(name.rstrip("*"), name.endswith("*")) for name in spec.split())


LESSON_COLUMNS = _columns(
    "user_loginid* crsvname* lsnvname* lnk_type* lesson_status* lesson_status_date lesson_score lesson_time ilt_status"
)
COURSE_COLUMNS = _columns("user_loginid* crsvname* course_status* course_status_date course_enrollement_date")
ACTIVITY_COLUMNS = _columns("user_loginid* crsvname* lsnvname time* action")


# The seed's sample files (seed 001): its header, with the asterisks of the required columns,
# and its example row, tab separated; `aula-ws import template` prints them to be filled in.
TEMPLATES = {
    "lessons": (LESSON_COLUMNS, "demo\tComics\t{1B38F003-16A9-4432-AB}\tL\tP\t22/03/2013\t90\t1800\t"),
    "courses": (COURSE_COLUMNS, "demo\tcourse_1\tI\t2014/01/01\t2014/01/01"),
}


def template(kind: str) -> str:
    """The seed's sample file of `kind` (lessons or courses): header, example row."""
    columns, example = TEMPLATES[kind]
    header = "\t".join(column.name + ("*" if column.required else "") for column in columns)
    return f"{header}\n{example}\n"


@dataclass
class Warnings:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)


def detect_delimiter(first_line: str) -> str:
    """Tab, `;` or `,`: the one the first line uses most (tab first on a tie)."""
    return max(DELIMITERS, key=lambda d: (first_line.count(d), -DELIMITERS.index(d)))


def map_columns(columns: tuple[Column, ...], header: list[str] | None) -> Columns:
    """By name in any order with a header (a name given twice: its last column); by position
    (the documented order) without."""
    if header is None:
        return Columns({column.name: i for i, column in enumerate(columns)})
    known = {column.name for column in columns}
    # a header written as the seed writes it, `user_loginid*`, names the column user_loginid
    match = match_header([cell.strip().rstrip("*") for cell in header], known.__contains__)
    missing = match.missing([c.name for c in columns if c.required])
    if missing:
        raise HeaderError(
            f"the header lacks the required column(s) {', '.join(missing)} "
            f"(expected: {' '.join(c.name for c in columns)})"
        )
    return Columns(match.positions, match.unknown)


_login_match = LOGIN_PATTERN.fullmatch


def login(value: str) -> str:
    if not value:
        raise RowError("user_loginid is required")
    if not _login_match(value):
        raise RowError(f'user_loginid "{value[:100]}" has characters outside [A-Za-z0-9_.@-]')
    return value


def one_of(value: str, name: str, allowed: frozenset[str]) -> str:
    if value in allowed:  # the usual case: already an upper-case code
        return value
    code = required(value, name).upper()
    if code not in allowed:
        raise RowError(f'{name} "{value[:20]}" is not one of {", ".join(sorted(allowed))}')
    return code


_SLASHED_YMD = re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})")
_DASHED_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_SLASHED_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def import_date(value: str, name: str) -> date | None:
    """YYYY/MM/DD (documented), YYYY-MM-DD, or DD/MM/YYYY (the seed's example row); empty: None."""
    if not value:
        return None
    if len(value) == 10 and value[4] == value[7] == "/" and value.isascii():  # the documented form, fast
        try:
            return date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            pass  # the patterns below say why
    for pattern, order in ((_SLASHED_YMD, (0, 1, 2)), (_DASHED_YMD, (0, 1, 2)), (_SLASHED_DMY, (2, 1, 0))):
        match = pattern.fullmatch(value)
        if match:
            parts = match.groups()
            try:
                return date(int(parts[order[0]]), int(parts[order[1]]), int(parts[order[2]]))
            except ValueError:
                raise RowError(f'{name} "{value}" is not a real date') from None
    raise RowError(f'{name} "{value[:40]}" is not a date (YYYY/MM/DD, YYYY-MM-DD or DD/MM/YYYY)')


@lru_cache(maxsize=4096)
def start_of_day_utc(day: date, zone: ZoneInfo) -> datetime:
    """A status dated by day is taken at the start of that day in the service's zone."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def score(value: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value if "," not in value else value.replace(",", "."))
    except ValueError:
        raise RowError(f'lesson_score "{value[:20]}" is not a number') from None
    if not 0 <= number <= 100:
        raise RowError(f'lesson_score "{value}" is not between 0 and 100')
    return number


def seconds(value: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise RowError(f'lesson_time "{value[:20]}" is not a whole number of seconds')
    return int(value)


def moment(value: str, zone: ZoneInfo) -> datetime:
    """Activity time: ISO 8601 (naive means the service's zone) or Unix seconds; naive UTC out."""
    required(value, "time")
    if value.isascii() and value.isdigit():
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f'time "{value[:40]}" is neither ISO 8601 nor Unix seconds') from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC).replace(tzinfo=None)


class LessonLine(NamedTuple):
    login: str
    group: str
    unit: str
    unit_type: str
    status: str
    status_date: date | None
    score: float | None
    time_spent: int | None
    ilt_present: bool | None


_LESSON_NAMES = tuple(c.name for c in LESSON_COLUMNS)
_COURSE_NAMES = tuple(c.name for c in COURSE_COLUMNS)
_ACTIVITY_NAMES = tuple(c.name for c in ACTIVITY_COLUMNS)


def read_lesson_line(fields: list[str], columns: Columns, zone: ZoneInfo) -> LessonLine:
    user, group, unit, unit_type, status, status_date, score_, time_, ilt = columns.pick(fields, _LESSON_NAMES)
    if ilt:
        ilt = ilt.upper()
        if ilt != "P":
            raise RowError(f'ilt_status "{ilt[:20]}" must be P or empty')
    return LessonLine(  # positional: a million lines make keyword arguments show
        login(user),
        required(group, "crsvname"),
        required(unit, "lsnvname"),
        one_of(unit_type, "lnk_type", UNIT_TYPES),
        one_of(status, "lesson_status", LESSON_STATUSES),
        import_date(status_date, "lesson_status_date"),
        score(score_),
        seconds(time_),
        True if ilt else None,
    )


class LessonColumns(NamedTuple):
    """The usual batch of lesson lines, one list per field: what read_lesson_line makes of each
    line, every line read without an error and none with an ILT presence."""

    login: list[str]
    group: list[str]
    unit: list[str]
    unit_type: list[str]
    status: list[str]
    status_date: list[date | None]
    score: list[float | None]
    time_spent: list[int | None]

    def lines(self) -> list[LessonLine]:
        return list(map(_new_tuple, repeat(LessonLine), zip(*self, repeat(None))))  # no ILT presence


def read_lesson_columns(
    raws: list[str], fields: list[list[str] | None], columns: Columns, zone: ZoneInfo
) -> LessonColumns | None:
    """The lines of a batch read column by column, each distinct value once; None unless every
    line is read without an error and has no ILT presence (then each line is read on its own,
    which says why). A million lines repeat their logins, codes, dates and scores a lot."""
    if None in fields or xml_problem("".join(raws)) is not None:
        return None
    positions = [columns.positions.get(name) for name in _LESSON_NAMES]
    if not fields or min(map(len, fields)) <= max(p for p in positions if p is not None):  # type: ignore[arg-type]
        return None  # a short line: read on its own
    by_position = list(zip(*fields, strict=False))  # every line is long enough (checked above)

    def column(position: int | None) -> list[str]:  # a column the file lacks is empty, as in `pick`
        if position is None:
            return [""] * len(fields)
        return list(map(str.strip, by_position[position]))

    user, group, unit, unit_type, status, status_date, score_, time_, ilt = map(column, positions)
    if any(ilt) or "" in set(group) or "" in set(unit):
        return None
    if not set(unit_type) <= UNIT_TYPES or not set(status) <= LESSON_STATUSES:
        return None
    try:
        for value in set(user):
            login(value)
        days = {value: import_date(value, "lesson_status_date") for value in set(status_date)}
        scores = {value: score(value) for value in set(score_)}
        times = _seconds_of(set(time_))
    except RowError:
        return None
    return LessonColumns(
        user,
        group,
        unit,
        unit_type,
        status,
        list(map(days.__getitem__, status_date)),
        list(map(scores.__getitem__, score_)),
        list(map(times.__getitem__, time_)),
    )


_new_tuple = tuple.__new__


def _seconds_of(values: set[str]) -> dict[str, int | None]:
    """What `seconds` makes of each value; at C speed when all are ASCII digits (the usual file:
    seconds spent are nearly all distinct, unlike the other columns)."""
    digits = "".join(values)
    if "" not in values and digits.isascii() and digits.isdigit():
        return dict(zip(values, map(int, values), strict=True))
    return {value: seconds(value) for value in values}


def check_lesson_against_unit(line: LessonLine, unit_type: str, warnings: Warnings) -> bool | None:
    """Warnings for a line that disagrees with its unit; the ILT presence to store."""
    if line.unit_type != unit_type:
        warnings.add(f'lnk_type "{line.unit_type}" differs from the unit\'s type "{unit_type}"')
    if line.ilt_present and unit_type != "T":
        warnings.add("ilt_status is only for face-to-face (T) units: ignored")
        return None
    return line.ilt_present


class CourseLine(NamedTuple):
    login: str
    group: str
    status: str
    status_date: date | None
    enrolment_date: date | None


def read_course_line(fields: list[str], columns: Columns, zone: ZoneInfo) -> CourseLine:
    user, group, status, status_date, enrolment_date = columns.pick(fields, _COURSE_NAMES)
    return CourseLine(
        login=login(user),
        group=required(group, "crsvname"),
        status=one_of(status, "course_status", COURSE_STATUSES),
        status_date=import_date(status_date, "course_status_date"),
        enrolment_date=import_date(enrolment_date, "course_enrollement_date"),
    )


class ActivityLine(NamedTuple):
    login: str
    group: str
    unit: str | None
    time: datetime
    action: str


def read_activity_line(fields: list[str], columns: Columns, zone: ZoneInfo) -> ActivityLine:
    user, group, unit, time_, action = columns.pick(fields, _ACTIVITY_NAMES)
    if len(action) > 100:
        raise RowError("action is longer than 100 characters")
    return ActivityLine(
        login=login(user),
        group=required(group, "crsvname"),
        unit=unit or None,
        time=moment(time_, zone),
        action=action,
    )
