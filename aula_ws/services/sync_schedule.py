"""Use case: `aula-ws sync run` and the server's scheduler: process the file kinds that are due.

First the drop folder is captured and ended enrolments lose their estado;
then each due kind's file (its name in the settings) is run from the file
store. Deciding and marking a kind's slot happens under a database lock, so
two runners (processes or hosts) never run the same slot or the same file.
"""

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.sync_files import scheduled_inputs
from aula_ws.errors import SyncBusy, WriteFailed
from aula_ws.services.clock import utc_now
from aula_ws.services.runtime import Services
from aula_ws.services.sync import SyncResult, sync_file
from aula_ws.services.sync_capture import CaptureResult, capture_drop_folder
from aula_ws.store import sync as store
from aula_ws.store.database import full_database_reported
from aula_ws.store.sync_locks import runner_lock
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.sync.filestore import FileStore
from aula_ws.sync.schedule import due_kinds

log = logging.getLogger(__name__)


@dataclass
class ScheduledRun:
    capture: CaptureResult
    results: list[SyncResult] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # due kinds whose file was not there
    busy: list[str] = field(default_factory=list)
    cleaned: list[Path] = field(default_factory=list)  # reports, archives, trybacks past the clean-up delay


def refresh_memberships(engine: Engine, now: datetime) -> int:
    """Enrolments whose endtime has passed lose their estado."""
    with UnitOfWork(engine) as uow:
        changed = store.refresh_estado(uow.connection, now)
        uow.commit()
    return changed


def run_due(engine: Engine, settings: Settings, now: datetime | None = None) -> ScheduledRun:
    with full_database_reported("the due runs after it were not started"):
        return _run_due(engine, settings, now or utc_now())


def _run_due(engine: Engine, settings: Settings, now: datetime) -> ScheduledRun:
    outcome = ScheduledRun(capture_drop_folder(engine, settings, now))
    refresh_memberships(engine, now)
    files = FileStore(settings.data_dir)
    if settings.sync.fileareacleanupdelay:
        outcome.cleaned = files.clean(now - timedelta(days=settings.sync.fileareacleanupdelay))
    stale = timedelta(minutes=settings.sync.lock_stale_minutes)
    with UnitOfWork(engine) as uow:
        candidates = due_kinds(
            settings.sync.schedules, store.last_scheduled_runs(uow.connection), now, settings.timezone
        )
    for kind in candidates:
        with runner_lock(engine, f"schedule:{kind}", now, stale) as held:
            with UnitOfWork(engine) as uow:
                last = store.last_scheduled_runs(uow.connection)
                if not held or kind not in due_kinds(
                    {kind: settings.sync.schedules[kind]}, last, now, settings.timezone
                ):
                    outcome.busy.append(kind)
                    continue
                store.mark_scheduled_run(uow.connection, kind, now)
                uow.commit()
            inputs = _inputs(files, settings, kind)
            if not inputs:
                outcome.absent.append(kind)
                continue
            for path in inputs:
                try:
                    outcome.results.append(sync_file(engine, settings, kind, path, now=now, capture=False))
                except SyncBusy:
                    outcome.busy.append(kind)
                    break
    return outcome


def _inputs(files: FileStore, settings: Settings, kind: str) -> list[Path]:
    prefix = settings.sync.userpictures_fileprefix if kind == "avatars" else None
    try:
        present = [path.name for path in files.root.iterdir() if path.is_file()]
    except OSError:
        return []
    return [files.root / name for name in scheduled_inputs(settings.sync.file_names[kind], present, prefix)]


class Scheduler:
    """`aula-ws serve --scheduler`: run_due every minute in a daemon thread."""

    def __init__(self, services: Services, interval: float = 60.0):
        self.engine, self.settings, self.interval = services.engine, services.settings, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aula-ws-sync-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = run_due(self.engine, self.settings)
                for result in ran.results:
                    log.info(
                        "scheduled sync %s %s: %s", result.kind, result.input_name, "; ".join(result.counters.lines())
                    )
            except WriteFailed as failed:  # a full disk: one line, and the next tick tries again
                log.error("scheduled sync: %s", failed)
            except Exception:  # the scheduler keeps going; the next tick tries again
                log.exception("scheduled sync failed")
            self._stop.wait(self.interval)
