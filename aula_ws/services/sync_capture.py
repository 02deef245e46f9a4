"""Use case: capture the drop folder `<data>/sync/` into the file store, before any sync action.

A file is never captured half-way: besides the settle time of the decision,
it is copied to a hidden work file, its size and modification time are
compared before and after the copy (a change means a writer is still at it:
the copy is dropped), and only then moved into the store and removed from
the drop folder. One alarm mail per stale lock file (its path and time are
remembered in the database).

Only regular files are read: the folder is listed without following links,
and a file is opened with O_NOFOLLOW (and O_NONBLOCK, so a FIFO cannot hang
us) and checked on the open descriptor (fstat), so a name swapped for a link
between the listing and the open is refused, not followed. What is left is
reported (the log and the capture's answer). A copy that cannot be written
(a full disk) stops the capture with WriteFailed; the drop folder keeps it.
"""

import logging
import os
import shutil
import smtplib
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.file_input import xml_safe
from aula_ws.errors import WriteFailed
from aula_ws.private_files import FILE_MODE, create_binary
from aula_ws.services.clock import utc_now
from aula_ws.store import sync as store
from aula_ws.store.database import full_database_reported
from aula_ws.store.sync_locks import runner_lock, this_runner
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.sync.alarms import SmtpSender
from aula_ws.sync.capture import Alarm, Capture, Entry, Leave, Stop, Wait, determine_actions
from aula_ws.sync.filestore import FileStore

log = logging.getLogger(__name__)


@dataclass
class CaptureResult:
    captured: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)  # subjects of the alarms sent this time
    left: list[str] = field(default_factory=list)  # "<name>: <why>": never captured, left in place
    stopped: str | None = None

    def lines(self) -> list[str]:
        lines = [f"captured: {name}" for name in self.captured]
        lines += [f"left for the next capture (still being written?): {name}" for name in self.waiting]
        lines += [f"left in place, not captured: {entry}" for entry in self.left]
        lines += [f"alarm: {subject}" for subject in self.alarms]
        if self.stopped:
            lines.append(f"nothing captured: {self.stopped}")
        return lines


def capture_drop_folder(
    engine: Engine, settings: Settings, now: datetime | None = None, sender: SmtpSender | None = None
) -> CaptureResult:
    """Captures what the drop folder holds (see the module); WriteFailed when the disk is full."""
    with full_database_reported("nothing more was captured"):
        return _capture_drop_folder(engine, settings, now or utc_now(), sender)


def _capture_drop_folder(engine: Engine, settings: Settings, now: datetime, sender: SmtpSender | None) -> CaptureResult:
    files = FileStore(settings.data_dir)
    files.create()
    result = CaptureResult()
    stale = timedelta(minutes=settings.sync.lock_stale_minutes)
    with runner_lock(engine, "sync:capture", now, stale) as held:
        if not held:
            result.stopped = "another runner is capturing"
            return result
        actions = determine_actions(
            _entries(files.drop), time.time(), stale.total_seconds(), settings.sync.settle_seconds
        )
        for alarm in (a for a in actions if isinstance(a, Alarm)):
            if _alarm(engine, settings, sender or SmtpSender(settings.smtp), files.drop, alarm, now):
                result.alarms.append(alarm.subject)
        stop = next((a for a in actions if isinstance(a, Stop)), None)
        if stop is not None:
            result.stopped = stop.reason
            return result
        result.waiting = [a.name for a in actions if isinstance(a, Wait)]
        for leave in (a for a in actions if isinstance(a, Leave)):
            _leave(result, leave.name, leave.reason)
        lock = _write_lock(files.drop / "lock.txt")
        try:
            for action in (a for a in actions if isinstance(a, Capture)):
                try:
                    captured = _capture(files, action.name)
                except _NotRegular as refused:
                    _leave(result, action.name, str(refused))
                    continue
                (result.captured if captured else result.waiting).append(action.name)
        finally:
            lock.unlink(missing_ok=True)
    return result


def _leave(result: CaptureResult, name: str, reason: str) -> None:
    result.left.append(f"{xml_safe(name)}: {reason}")
    log.warning("drop folder: %s left in place, not captured: %s", xml_safe(name), reason)


def _write_lock(lock: Path) -> Path:
    """lock.txt, ours alone: a stale one (or a link planted under its name) is removed first,
    never written through."""
    try:
        lock.unlink(missing_ok=True)
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{int(time.time())}\n{this_runner()}\n")
    except OSError as error:
        lock.unlink(missing_ok=True)
        raise WriteFailed.of("the capture lock file", error, "nothing was captured", path=lock) from None
    return lock


_TYPES = (
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISDIR, "folder"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "device"),
    (stat.S_ISBLK, "device"),
    (stat.S_ISSOCK, "socket"),
)


def _type(mode: int) -> str:
    return next((name for test, name in _TYPES if test(mode)), "special file")


def _entries(folder: Path) -> list[Entry]:
    """What the drop folder holds, seen without following links."""
    entries = []
    with os.scandir(folder) as listing:
        for item in listing:
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            is_file = stat.S_ISREG(info.st_mode)
            kind = "regular file" if is_file else _type(info.st_mode)
            entries.append(Entry(item.name, is_file, info.st_mtime, info.st_mtime_ns, kind))
    return entries


class _NotRegular(Exception):
    """The name no longer holds a regular file (swapped since the listing)."""


def _capture(files: FileStore, name: str) -> bool:
    """True when captured; False when the file changed or vanished while copied (next time)."""
    source = files.drop / name
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as error:  # ELOOP: a link now; ENXIO: a socket...
        raise _NotRegular(f"not a regular file ({error.strerror})") from None
    with os.fdopen(fd, "rb") as data:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise _NotRegular(f"not a regular file but a {_type(before.st_mode)}")
        staged = _copy(files, name, data)
        after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or not _same(source, before):
        staged.unlink()
        return False
    try:
        os.replace(staged, files.root / name)  # a same-name file in the store is replaced
    except (IsADirectoryError, NotADirectoryError):
        staged.unlink()
        raise _NotRegular("the store holds a folder of that name") from None
    except OSError as error:
        staged.unlink()
        raise WriteFailed.of(f"the capture of {xml_safe(name)}", error, "it is left in the drop folder") from None
    source.unlink()
    log.info("captured %s into the sync file store", name)
    return True


def _copy(files: FileStore, name: str, data: BinaryIO) -> Path:
    staged = None
    try:
        staged, output = create_binary(files.work, f"capture-{name}")
        with output:
            shutil.copyfileobj(data, output)
    except OSError as error:
        if staged is not None:
            staged.unlink(missing_ok=True)
        raise WriteFailed.of(
            f"the capture of {xml_safe(name)}", error, "it is left in the drop folder", path=staged
        ) from None
    return staged


def _same(path: Path, opened: os.stat_result) -> bool:
    """The name still holds the file we copied (not removed, not replaced)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return (info.st_dev, info.st_ino) == (opened.st_dev, opened.st_ino)


def _alarm(engine: Engine, settings: Settings, sender: SmtpSender, drop: Path, alarm: Alarm, now: datetime) -> bool:
    key = f"{drop / alarm.lock.name}@{alarm.lock.mtime_ns}"[-255:]
    with UnitOfWork(engine) as uow:
        if not store.claim_alarm(uow.connection, key, now):
            return False
        uow.commit()
    subject = f"{settings.wwwroot} : {alarm.subject}"
    body = f"{alarm.body}\n\n{drop / alarm.lock.name} is older than {settings.sync.lock_stale_minutes} minutes."
    try:
        return sender.send_to_admin(subject, body)
    except (OSError, smtplib.SMTPException) as failure:
        log.error("alarm mail failed (%s); it will be tried again at the next capture", failure)
        with UnitOfWork(engine) as uow:
            store.forget_alarm(uow.connection, key)
            uow.commit()
        return False
