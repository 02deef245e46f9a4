"""Use case: capture the drop folder `<data>/sync/` into the file store, before any sync action.

A file is never captured half-way: besides the settle time of the decision,
it is copied to a hidden work file, its size and modification time are
compared before and after the copy (a change means a writer is still at it:
the copy is dropped), and only then moved into the store and removed from
the drop folder. One alarm mail per stale lock file (its path and time are
remembered in the database).
"""

import logging
import os
import shutil
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.services.clock import utc_now
from aula_ws.store import sync as store
from aula_ws.store.sync_locks import runner_lock, this_runner
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.sync.alarms import SmtpSender
from aula_ws.sync.capture import Alarm, Capture, Entry, Stop, Wait, determine_actions
from aula_ws.sync.filestore import FileStore

log = logging.getLogger(__name__)


@dataclass
class CaptureResult:
    captured: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)  # subjects of the alarms sent this time
    stopped: str | None = None

    def lines(self) -> list[str]:
        lines = [f"captured: {name}" for name in self.captured]
        lines += [f"left for the next capture (still being written?): {name}" for name in self.waiting]
        lines += [f"alarm: {subject}" for subject in self.alarms]
        if self.stopped:
            lines.append(f"nothing captured: {self.stopped}")
        return lines


def capture_drop_folder(
    engine: Engine, settings: Settings, now: datetime | None = None, sender: SmtpSender | None = None
) -> CaptureResult:
    now = now or utc_now()
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
        lock = files.drop / "lock.txt"
        lock.write_text(f"{int(time.time())}\n{this_runner()}\n")
        try:
            for action in (a for a in actions if isinstance(a, Capture)):
                if _capture(files, action.name):
                    result.captured.append(action.name)
                else:
                    result.waiting.append(action.name)
        finally:
            lock.unlink(missing_ok=True)
    return result


def _entries(folder: Path) -> list[Entry]:
    entries = []
    for path in folder.iterdir():
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        entries.append(Entry(path.name, path.is_file(), info.st_mtime, info.st_mtime_ns))
    return entries


def _capture(files: FileStore, name: str) -> bool:
    source = files.drop / name
    before = _signature(source)
    staged = files.work / f"capture-{os.getpid()}-{name}"
    shutil.copyfile(source, staged)
    if before is None or _signature(source) != before:
        staged.unlink()
        return False
    os.replace(staged, files.root / name)  # a same-name file in the store is replaced
    source.unlink()
    log.info("captured %s into the sync file store", name)
    return True


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


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
