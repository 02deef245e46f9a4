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
COMMENT_STARTS = ("#", "/")
UNIT_TYPES = frozenset("ALWTE")

# Moodle role shortnames and the perfil they stand for; a perfil code is accepted as it is.
MOODLE_ROLES = {"student": "A", "editingteacher": "D", "teacher": "T", "manager": "C", "guest": "I"}
DEFAULT_ROLE = "student"

USER_IDENTITIES = ("username", "idnumber", "email")
GROUP_IDENTITIES = ("shortname", "idnumber", "id")


def is_comment(line: str) -> bool:
    """Blank lines and lines starting with `#` or `/` are comments."""
    stripped = line.strip()
    return not stripped or stripped.startswith(COMMENT_STARTS)


def detect_separator(header: str) -> str:
    """`;` by default; `,` when the header uses commas and no semicolon."""
    return "," if "," in header and ";" not in header else ";"


def split_line(line: str, separator: str) -> list[str]:
    """Fields split at the separator (no quoting: `&#44` stands for the separator), trimmed."""
    return [field.strip().replace(ENCODED_SEPARATOR, separator) for field in line.rstrip("\r\n").split(separator)]


@dataclass(frozen=True)
class Layout:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    any_of: tuple[str, ...] = ()  # at least one of these
    indexed: bool = False  # course<n> / role<n>


LAYOUTS = {
    "users": Layout(
        ("username", "firstname", "lastname"),
        ("idnumber", "email", "password", "suspended", "deleted", "cohort", "mnethost", "wwwroot"),
        indexed=True,
    ),
    "courses": Layout(("shortname", "fullname"), ("id", "idnumber", "tracks_progress", "startdate", "visible")),
    "lessons": Layout(("crsvname", "lsnvname"), ("name", "lnk_type", "position", "cmd")),
    "enrolments": Layout(
        ("cid", "uid", "rolename"),
        ("cmd", "starttime", "endtime", "administrador", "responsable"),
    ),
    "cohorts": Layout((), ("cmd", "cid", "cidnumber", "cname", "cdescription", "userid"), ("cid", "cidnumber")),
    "cohortscourses": Layout(("cohort", "course"), ("cmd", "role")),
}

_INDEXED = re.compile(r"(course|role)([0-9]+)")


def read_header(kind: str, fields: list[str], identity_column: str | None = None) -> Columns:
    """Columns by name in any order; unknown names are ignored (a warning each)."""
    layout = LAYOUTS[kind]
    known = set(layout.required) | set(layout.optional)

    def is_known(name: str) -> bool:
        return name in known or (layout.indexed and _INDEXED.fullmatch(name) is not None)

    match = match_header(fields, is_known)
    if match.repeated:
        raise HeaderError(f'the column "{match.repeated[0]}" appears twice')
    positions = match.positions
    slots = {int(found.group(2)) for name in positions if (found := _INDEXED.fullmatch(name)) and layout.indexed}
    needed = list(layout.required)
    if identity_column and identity_column not in needed:
        needed.append(identity_column)
    missing = match.missing(needed)
    if missing:
        raise HeaderError(f"the header lacks the column(s) {', '.join(missing)}")
    if layout.any_of and not any(name in positions for name in layout.any_of):
        raise HeaderError(f"the header needs one of the columns {', '.join(layout.any_of)}")
    for slot in sorted(slots):
        if f"course{slot}" not in positions:
            raise HeaderError(f"role{slot} has no course{slot} column")
    return Columns(positions, match.unknown, tuple(sorted(s for s in slots if f"course{s}" in positions)))


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
