"""The drop-folder capture decision (pure): what to do with what `<data>/sync/` holds.

- `alock.txt` (the remote feeder is writing): nothing is captured; older than
  the staleness setting, an alarm "possible remote writer process issue".
- `lock.txt` (a capture is running): nothing is captured, unless it is stale:
  then an alarm "possible local sync process issue" and the capture goes on.
- other files, except names starting with `.` or `_`: captured, unless
  modified within the settle time (still being written: left for next time).
- anything that is not a regular file (a symbolic link, a folder, a FIFO, a
  device...) and a file named like a folder of the store (`reports`,
  `archives`) or not a plain name (control characters, too long) is left in place and reported, every time: never followed,
  never read, and never in the way of the other files.
"""

from dataclasses import dataclass

from aula_ws.domain.file_input import file_name_problem
from aula_ws.domain.sync_files import STORE_FOLDERS, is_capturable


@dataclass(frozen=True)
class Entry:
    name: str
    is_file: bool  # a regular file, seen without following links
    mtime: float  # seconds since the epoch
    mtime_ns: int = 0
    type: str = "regular file"  # else: "symbolic link", "folder", "FIFO", "device", "socket"


@dataclass(frozen=True)
class Alarm:
    lock: Entry
    subject: str
    body: str


@dataclass(frozen=True)
class Capture:
    name: str


@dataclass(frozen=True)
class Wait:
    name: str  # modified too recently: maybe still being written


@dataclass(frozen=True)
class Leave:
    name: str  # never captured: reported and left in place
    reason: str


@dataclass(frozen=True)
class Stop:
    reason: str


Action = Alarm | Capture | Wait | Leave | Stop


def determine_actions(entries: list[Entry], now: float, stale_seconds: float, settle_seconds: float) -> list[Action]:
    by_name = {entry.name: entry for entry in entries}
    actions: list[Action] = []
    remote, local = by_name.get("alock.txt"), by_name.get("lock.txt")
    if remote is not None:
        if now - remote.mtime > stale_seconds:
            actions.append(Alarm(remote, "Too old write lock file.", "Possible remote writer process issue."))
        return actions + [Stop("alock.txt is present: a remote feeder is writing")]
    if local is not None:
        if now - local.mtime <= stale_seconds:
            return [Stop("lock.txt is present: another capture is running")]
        actions.append(Alarm(local, "Too old read lock file.", "Possible local sync process issue."))
    for entry in sorted(entries, key=lambda e: e.name):
        if not is_capturable(entry.name):
            continue
        if not entry.is_file:
            actions.append(Leave(entry.name, f"not a regular file but a {entry.type}"))
        elif entry.name in STORE_FOLDERS:
            actions.append(Leave(entry.name, "named like a folder of the file store (rename it)"))
        elif problem := file_name_problem(entry.name):
            actions.append(Leave(entry.name, problem))
        else:
            actions.append(Wait(entry.name) if now - entry.mtime < settle_seconds else Capture(entry.name))
    return actions
