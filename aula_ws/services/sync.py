"""Use case: run a sync file (CONTRACT.md section 5), from the CLI, SOAP or the schedule.

A run holds the kind's runner lock (in the database), sets aside the file of
a run that was killed, remembers the file it processes (a `running` row,
committed first), then applies the whole file in one transaction: a line is
applied whole or not at all; a killed run applies nothing. Then the report
goes to reports/, the input to archives/, the failed lines to a tryback file
beside the input. A simulation writes nothing but its report.
"""

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain import sync_files as names
from aula_ws.domain.sync_rows import HeaderError, RowError, read_header
from aula_ws.errors import InvalidRequest, SyncBusy
from aula_ws.services.clock import utc_now
from aula_ws.services.sync_batches import KINDS, apply_snapshot, load_snapshot
from aula_ws.services.sync_capture import capture_drop_folder
from aula_ws.store import sync as store
from aula_ws.store.sync_locks import runner_lock, this_runner
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.sync.csvfile import FileRefused, SyncLine, open_sync_file
from aula_ws.sync.filestore import FileStore, free_path, move
from aula_ws.sync.lines import PlanContext
from aula_ws.sync.report import SyncCounters, SyncReport

log = logging.getLogger(__name__)
BATCH_SIZE = 5000
_hasher = PasswordHasher()


def hash_password(password: str, stored: str | None) -> str:
    """argon2id; the stored hash is kept when the password still matches it."""
    if stored:
        try:
            if _hasher.verify(stored, password):
                return stored
        except (VerificationError, InvalidHashError):
            pass
    return _hasher.hash(password)


@dataclass
class SyncResult:
    kind: str
    input_name: str
    simulate: bool
    counters: SyncCounters = field(default_factory=SyncCounters)
    report_path: Path | None = None
    report_text: str = ""
    tryback_path: Path | None = None
    tryback: bytes | None = None
    archive_path: Path | None = None
    refused: str | None = None
    set_aside: list[Path] = field(default_factory=list)  # files of killed runs
    skipped: str | None = None  # why the file was not run


Progress = Callable[[int], None]


def check_kind(kind: str) -> None:
    if kind not in names.KINDS:
        raise InvalidRequest(f"unknown file kind {kind!r}: one of {', '.join(names.KINDS)}")


def sync_file(
    engine: Engine, settings: Settings, kind: str, path: Path, simulate: bool = False,
    now: datetime | None = None, progress: Progress | None = None, want_text: bool = False,
    capture: bool = True,
) -> SyncResult:
    """Runs the sync file at `path` (in the file store or anywhere), after capturing the drop folder."""
    check_kind(kind)
    now = now or utc_now()
    if capture:
        capture_drop_folder(engine, settings, now)
    path = path.resolve()
    result = SyncResult(kind, path.name, simulate)
    if not path.is_file():
        raise InvalidRequest(f"no such file: {path}")
    if simulate:
        with path.open("rb") as source:
            _run(engine, settings, kind, source, path, result, now, progress)
        return _place_outputs(settings, path, result, now, want_text)
    stale = timedelta(minutes=settings.sync.lock_stale_minutes)
    with runner_lock(engine, f"sync:{kind}", now, stale) as held:
        if not held:
            raise SyncBusy(kind)
        result.set_aside = set_aside_killed_runs(engine, kind, now)
        if not path.exists():
            result.skipped = f"{path.name} was set aside: its last run was killed part-way"
            return result
        with UnitOfWork(engine) as uow:
            run_id = store.start_run(uow.connection, kind, str(path), this_runner(), now)
            uow.commit()
        try:
            with path.open("rb") as source:
                _run(engine, settings, kind, source, path, result, now, progress, run_id)
        except BaseException:
            with UnitOfWork(engine) as uow:
                store.set_run_state(uow.connection, run_id, "crashed", utc_now())
                uow.commit()
            raise
        _place_outputs(settings, path, result, now, want_text)
        with UnitOfWork(engine) as uow:
            store.set_run_state(uow.connection, run_id, "done", utc_now())
            uow.commit()
    return result


def sync_upload(
    engine: Engine, settings: Settings, kind: str, content: bytes, file_name: str | None,
    simulate: bool = False, now: datetime | None = None,
) -> SyncResult:
    """Runs uploaded content: stored as `file_name` in the file store (a simulation stores nothing)."""
    check_kind(kind)
    name = Path(file_name or settings.sync.file_names[kind]).name
    if not names.is_capturable(name):
        raise InvalidRequest(f"file name {name!r} is not allowed (hidden, omitted or a lock file)")
    now = now or utc_now()
    files = FileStore(settings.data_dir)
    files.create()
    if simulate:
        result = SyncResult(kind, name, True)
        _run(engine, settings, kind, io.BytesIO(content), files.root / name, result, now, None)
        return _place_outputs(settings, files.root / name, result, now, True)
    capture_drop_folder(engine, settings, now)
    staged = files.work / f"upload-{this_runner().replace(':', '-')}-{name}"
    staged.write_bytes(content)
    target = move(staged, free_path(files.root, name))
    return sync_file(engine, settings, kind, target, now=now, want_text=True, capture=False)


def set_aside_killed_runs(engine: Engine, kind: str, now: datetime) -> list[Path]:
    """Runs left unfinished were killed (we hold the lock): a `running` file is renamed
    `<name>-tryback-failed.<ext>`; an `applied` one (committed, then killed) is archived."""
    moved = []
    with UnitOfWork(engine) as uow:
        for run_id, file_path, state in store.unfinished_runs(uow.connection, kind):
            path = Path(file_path)
            if path.exists():
                if state == "running":
                    moved.append(move(path, free_path(path.parent, names.failed_name(path.name))))
                    log.warning("sync %s: the run of %s was killed part-way; set aside as %s", kind, path, moved[-1])
                else:
                    moved.append(move(path, free_path(path.parent, names.archive_name(now, path.name))))
            store.set_run_state(uow.connection, run_id, "crashed", now)
        uow.commit()
    return moved


def _run(
    engine: Engine, settings: Settings, kind: str, source: BinaryIO, path: Path, result: SyncResult,
    now: datetime, progress: Progress | None, run_id: int | None = None,
) -> None:
    files = FileStore(settings.data_dir)
    files.create()
    report = SyncReport(
        free_path(files.work, names.report_name(now, path.name)),
        free_path(files.work, names.tryback_name(now, path.name)),
        settings.sync.encoding,
        result.simulate,
    )
    result.counters = report.counters
    report.write(f"{kind} file {path.name}, run at {now:%Y-%m-%d %H:%M} UTC")
    try:
        if kind == "avatars":
            from aula_ws.services.sync_avatars import run_avatars

            run_avatars(engine, settings, source, report, now, result.simulate, run_id)
        else:
            _run_lines(engine, settings, kind, source, report, now, result.simulate, progress, run_id)
    except (FileRefused, HeaderError) as refused:
        result.refused = str(refused)
        report.write(f"file refused, nothing applied: {refused}")
    finally:
        report.close()
    result.report_path = report.report_path
    result.tryback_path = report.tryback_path if report.has_tryback else None


def plan_context(settings: Settings, now: datetime) -> PlanContext:
    return PlanContext(
        now=now, zone=settings.timezone, user_identity=settings.sync.user_identity,
        group_identity=settings.sync.group_identity, hash_password=hash_password,
    )


def _run_lines(
    engine: Engine, settings: Settings, kind: str, source: BinaryIO, report: SyncReport,
    now: datetime, simulate: bool, progress: Progress | None, run_id: int | None,
) -> None:
    spec = KINDS[kind]
    ctx = plan_context(settings, now)
    sync_file_ = open_sync_file(source, settings.sync.encoding, spec.has_header)
    header = None
    if spec.has_header:
        if sync_file_.header is None:
            raise HeaderError("the file is empty (no header line)")
        identity = settings.sync.user_identity if kind == "users" else None
        header = read_header(kind, sync_file_.header.fields, identity)
        report.header_raw = sync_file_.header.raw
        for unknown in header.unknown:
            report.warning(sync_file_.header.number, f'unknown column "{unknown}" ignored')
    with UnitOfWork(engine) as uow:
        profiles = store.profile_codes(uow.connection)
        for batch in _batches(sync_file_.lines):
            parsed = [_read(spec.read, line, header, ctx) for line in batch]
            wants = spec.wants([p for p in parsed if not isinstance(p, RowError)], ctx)
            snap = load_snapshot(uow.connection, wants, profiles)
            for line, record in zip(batch, parsed):
                try:
                    if isinstance(record, RowError):
                        raise record
                    for counter, message in spec.plan(record, snap, ctx):
                        report.action(line.number, counter, message)
                except RowError as error:
                    report.failure(line.number, str(error), raw=line.raw)
            apply_snapshot(uow.connection, snap, ctx)
            report.counters.processed += len(batch)
            if progress is not None:
                progress(report.counters.processed)
        if run_id is not None:
            store.set_run_state(uow.connection, run_id, "applied")
        if not simulate:
            uow.commit()


def _read(reader: Callable[..., Any], line: SyncLine, header: Any, ctx: PlanContext) -> Any:
    try:
        return reader(line.fields, header, ctx)
    except RowError as error:
        return error


def _batches(lines: Iterator[SyncLine]) -> Iterator[list[SyncLine]]:
    while batch := list(islice(lines, BATCH_SIZE)):
        yield batch


def _place_outputs(settings: Settings, path: Path, result: SyncResult, now: datetime, want_text: bool) -> SyncResult:
    """Report to reports/ (unless disabled), tryback beside the input, input to archives/;
    a simulation keeps only its report."""
    files = FileStore(settings.data_dir)
    if result.tryback_path is not None:
        if want_text:
            result.tryback = result.tryback_path.read_bytes()
        if settings.sync.tryback and not result.simulate:
            result.tryback_path = move(result.tryback_path, free_path(path.parent, result.tryback_path.name))
        else:
            result.tryback_path.unlink()
            result.tryback_path = None
    if settings.sync.archive and not result.simulate and result.refused is None:
        result.archive_path = move(path, free_path(files.archives, names.archive_name(now, path.name)))
    assert result.report_path is not None
    if want_text:
        result.report_text = result.report_path.read_text(encoding="utf-8")
    if settings.sync.reports:
        result.report_path = move(result.report_path, free_path(files.reports, result.report_path.name))
    else:
        result.report_path.unlink()
        result.report_path = None
    return result
