"""The synchronisation files, line by line (CONTRACT.md section 5, seed 004).

Pure rules over text: how a line is split, which lines are comments, which
columns each file kind has, how each value is read. A line either becomes a
record or is refused with a reason (RowError); the header may add warnings.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from aula_ws.domain.contract_params import ANONYMOUS_LOGIN, LOGIN_PATTERN
from aula_ws.domain.csv_rows import Columns, HeaderError, RowError, match_header, required

SEPARATORS = (";", ",")
ENCODED_SEPARATOR = "&#44"
# tool_sync's comment lines: blank, or starting with one of these (a space included)
COMMENT_STARTS = ("#", "/", "(", "[", "-", " ")
UNIT_TYPES = frozenset("ALWTE")

# Moodle role shortnames and the perfil they stand for; a perfil code is accepted as it is.
MOODLE_ROLES = {"student": "A", "editingteacher": "D", "teacher": "T", "manager": "C", "guest": "I"}
DEFAULT_ROLE = "student"
ALL_ROLES = "*"  # bindings: every role (del)


def is_comment(line: str) -> bool:
    """Blank lines and lines starting with `#`, `/`, `(`, `[`, `-` or a space (tool_sync's rule)."""
    return not line.strip() or line.startswith(COMMENT_STARTS)


def detect_separator(header: str, preferred: str = ";") -> str:
    """The `csvseparator` setting; the other one when the header holds only that one."""
    other = "," if preferred == ";" else ";"
    return other if other in header and preferred not in header else preferred


def split_line(line: str, separator: str) -> list[str]:
    """Fields split at the separator (no quoting: `&#44` stands for the separator), trimmed."""
    return [field.strip().replace(ENCODED_SEPARATOR, separator) for field in line.rstrip("\r\n").split(separator)]


def check_width(fields: list[str], width: int) -> None:
    """More fields than the header is a line error (never silently cut); trailing empty ones are
    tolerated (a spreadsheet's trailing separator). Fewer: the missing cells read as empty."""
    if len(fields) > width and any(fields[width:]):
        raise RowError(
            f"the line has {len(fields)} fields but the header {width} (a separator inside a value? write it as &#44)"
        )


@dataclass(frozen=True)
class Layout:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    indexed: str = ""  # a regular expression of the `<name><n>` columns (users: course<n>, role<n>...)
    prefixed: str = ""  # columns starting with this are known (users: profile_field_<name>)


PROFILE_FIELD = "profile_field_"
# Columns of tool_sync's files that aula-ws has no place for: accepted, not kept (a warning each):
# Moodle's other user fields, a cohort's category context and component, a course's category,
# format and template
MOODLE_ONLY_COLUMNS = frozenset(
    (
        "mnethostid",
        "institution",
        "department",
        "city",
        "country",
        "lang",
        "timezone",
        "phone1",
        "phone2",
        "address",
        "url",
        "description",
        "icq",
        "mailformat",
        "maildisplay",
        "maildigest",
        "htmleditor",
        "autosubscribe",
        "trackforums",
        "ccatcontext",
        "ccatcontextidnumber",
        "component",
        "category",
        "format",
        "template",
        "summary",
    )
)

LAYOUTS = {
    "users": Layout(
        ("username", "firstname", "lastname"),
        (
            "idnumber",
            "email",
            "password",
            "auth",
            "suspended",
            "deleted",
            "cohort",
            "cohortid",
            "oldusername",
            "mnethost",  # the MNET peer the user comes from (issue 12)
            "wwwroot",
        ),
        indexed=r"(course|role|enrol|start|end|group)([0-9]+)",
        prefixed=PROFILE_FIELD,
    ),
    "courses": Layout(("shortname", "fullname"), ("id", "idnumber", "tracks_progress", "startdate", "visible")),
    "lessons": Layout(("crsvname", "lsnvname"), ("name", "lnk_type", "position", "cmd")),
    "enrolments": Layout(
        ("cid", "uid", "rolename"),
        ("cmd", "enrol", "starttime", "endtime", "gcmd", "administrador", "responsable"),
        indexed=r"(g)([1-9])",
    ),
    "cohorts": Layout((), ("cmd", "cid", "cidnumber", "cname", "cdescription", "userid")),
    "cohortscourses": Layout(("cohort", "course"), ("cmd", "role", "enrol", "enrolstart", "enrolend", "makegroup")),
}


def read_header(kind: str, fields: list[str]) -> Columns:
    """Columns by name in any order; unknown names are ignored (a warning each)."""
    layout = LAYOUTS[kind]
    known = set(layout.required) | set(layout.optional)
    indexed = re.compile(layout.indexed) if layout.indexed else None

    def is_known(name: str) -> bool:
        return (
            name in known
            or (indexed is not None and indexed.fullmatch(name) is not None)
            or (bool(layout.prefixed) and name.startswith(layout.prefixed) and name != layout.prefixed)
        )

    match = match_header(fields, is_known)
    if match.repeated:
        raise HeaderError(f'the column "{match.repeated[0]}" appears twice')
    positions = match.positions
    missing = match.missing(layout.required)
    if missing:
        raise HeaderError(f"the header lacks the column(s) {', '.join(missing)}")
    slots: list[int] = []
    if kind == "users":
        for name in positions:
            found = indexed.fullmatch(name) if indexed else None
            if found and found.group(1) != "course" and f"course{found.group(2)}" not in positions:
                raise HeaderError(f"{name} has no course{found.group(2)} column")
        while f"course{len(slots) + 1}" in positions:  # from 1; the first gap ends them (tool_sync)
            slots.append(len(slots) + 1)
    return Columns(positions, match.unknown, tuple(slots))


def unknown_column_warning(name: str) -> str:
    if name in MOODLE_ONLY_COLUMNS or re.fullmatch(r"wwwroot[0-9]+", name):
        return f'Moodle column "{name}" accepted, not kept by aula-ws'
    return f'unknown column "{name}" ignored'


def login(value: str, name: str = "username") -> str:
    required(value, name)
    if not LOGIN_PATTERN.fullmatch(value):
        raise RowError(f'{name} "{value[:100]}" has characters outside [A-Za-z0-9_.@-] or is too long')
    if value == ANONYMOUS_LOGIN:
        raise RowError(f"{ANONYMOUS_LOGIN} is the platform's own guest user and cannot be changed")
    return value


def text(value: str, name: str, limit: int) -> str:
    if len(value) > limit:
        raise RowError(f"{name} is longer than {limit} characters")
    return value


def flag(value: str, name: str) -> bool | None:
    """0 or 1 (also false/true, no/yes); empty: not given."""
    lowered = value.lower()
    if not lowered:
        return None
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise RowError(f'{name} "{value[:20]}" must be 0 or 1')


def perfil(value: str, name: str = "rolename") -> str:
    """A Moodle role shortname (student, editingteacher, teacher, manager, guest) or a perfil code."""
    required(value, name)
    return MOODLE_ROLES.get(value.lower(), value)


def whole_number(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise RowError(f'{name} "{value[:20]}" is not a whole number')
    return int(value)


_MOMENT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")


def moment(value: str, name: str, zone: ZoneInfo) -> datetime | None:
    """`YYYY-MM-DD`, optionally ` HH:MM[:SS]`, in the service's zone, or Unix seconds; naive UTC out."""
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    match = _MOMENT.fullmatch(value)
    if match is None:
        raise RowError(f'{name} "{value[:40]}" is not a date (YYYY-MM-DD [HH:MM[:SS]] or Unix seconds)')
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        local = datetime(*parts, tzinfo=zone)  # type: ignore[misc,arg-type]
    except ValueError:
        raise RowError(f'{name} "{value}" is not a real date') from None
    return local.astimezone(UTC).replace(tzinfo=None)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """The day, in the service's zone, of a naive UTC instant."""
    return instant.replace(tzinfo=UTC).astimezone(zone).date()


def membership_active(suspended: bool, endtime: datetime | None, now: datetime) -> bool:
    """`estado`: true unless the user is suspended or the enrolment's endtime has passed."""
    return not suspended and (endtime is None or endtime > now)


def command(value: str, allowed: tuple[str, ...]) -> str:
    """The line's `cmd`: empty means the first (`add`); `delete` is read as `del`."""
    lowered = value.lower()
    if lowered == "delete":
        lowered = "del"
    if not lowered:
        return allowed[0]
    if lowered not in allowed:
        raise RowError(f'cmd "{value[:20]}" is not one of {", ".join(allowed)}')
    return lowered
