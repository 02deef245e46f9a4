"""Names in the synchronisation file store (CONTRACT.md section 5, Moodle tool_sync).

<store>/reports/<YYYYmmdd-HHMM>_report_<input name>
<store>/archives/<YYYYmmdd-HHMM>_<input name>
<input folder>/<basename>_tryback_<YYYYmmdd-HHMM>.<ext>
<input folder>/<name>-tryback-failed.<ext>      (a file whose run crashed)
"""

import fnmatch
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePath

from aula_ws.domain.file_input import file_name_problem, shown

KINDS = (
    "users",
    "courses",
    "deletecourses",
    "lessons",
    "enrolments",
    "cohorts",
    "cohortscourses",
    "avatars",
)
DEFAULT_FILE_NAMES = {
    "users": "userimport.csv",
    "courses": "uploadcourses.csv",
    "deletecourses": "deletecourses.csv",
    "lessons": "lessons.csv",
    "enrolments": "enrols.csv",
    "cohorts": "cohorts.csv",
    "cohortscourses": "cohortscourses.csv",
    "avatars": "userpictures.zip",
}
SIMULATION_PREFIX = "SIMULATION : "
LOCK_FILES = ("lock.txt", "alock.txt")
STORE_FOLDERS = ("reports", "archives")  # the store's own folders: no input may take their names


def stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%d-%H%M}"


def report_name(moment: datetime, input_name: str) -> str:
    return f"{stamp(moment)}_report_{input_name}"


def archive_name(moment: datetime, input_name: str) -> str:
    return f"{stamp(moment)}_{input_name}"


def tryback_name(moment: datetime, input_name: str) -> str:
    path = PurePath(input_name)
    return f"{path.stem}_tryback_{stamp(moment)}{path.suffix}"


def failed_name(input_name: str) -> str:
    path = PurePath(input_name)
    return f"{path.stem}-tryback-failed{path.suffix}"


def numbered(name: str, taken: int) -> str:
    """The name to use when `taken` files already hold it: `a.csv`, `a.2.csv`, `a.3.csv`..."""
    if taken == 0:
        return name
    path = PurePath(name)
    return f"{path.stem}.{taken + 1}{path.suffix}"


def is_capturable(name: str) -> bool:
    """Drop-folder names left alone: hidden (`.`), omitted (`_`) and the lock files."""
    return not name.startswith((".", "_")) and name not in LOCK_FILES


def store_name_problem(name: str) -> str | None:
    """Why `name` cannot be an input file of the store (an upload's `file_name`), or None."""
    problem = file_name_problem(name)
    if problem is not None:
        return problem
    if not is_capturable(name):
        return f"file name {shown(name)} is not allowed (hidden, omitted or a lock file)"
    if name in STORE_FOLDERS:
        return f"file name {shown(name)} is the name of a folder of the sync file store"
    return None


def is_tryback(name: str) -> bool:
    """A tryback file, or the file of a killed run: never an input of a schedule's pattern."""
    return "_tryback_" in name or "-tryback-failed" in name


def scheduled_inputs(pattern: str, names: Iterable[str], picture_prefix: str | None = None) -> list[str]:
    """The store's files a kind's schedule runs, in name order: the file name, or every name
    `pattern` matches when it holds `*`/`?` (`users*.csv`); for pictures also every ZIP whose
    name starts with the `userpictures_fileprefix` (tool_sync)."""

    def wanted(name: str) -> bool:
        if is_tryback(name) or not is_capturable(name):
            return False
        if picture_prefix and name.startswith(picture_prefix) and name.lower().endswith(".zip"):
            return True
        return fnmatch.fnmatchcase(name, pattern)

    return sorted(name for name in names if wanted(name))
