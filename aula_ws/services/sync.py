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
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from aula_ws.config import Settings
from aula_ws.config_sync import ENCODINGS
from aula_ws.csvkit.batches import batches, fewer_collections
from aula_ws.csvkit.reader import FileRefused, open_split_lines
from aula_ws.csvkit.report import Report
from aula_ws.domain import sync_files as names
from aula_ws.domain.csv_rows import HeaderError, RowError, SyncCounters, read_line
from aula_ws.domain.file_input import file_name_problem
from aula_ws.domain.sync_rows import check_width, read_header, unknown_column_warning
from aula_ws.errors import InvalidRequest, SyncBusy, WriteFailed
from aula_ws.passwords import hash_password
from aula_ws.private_files import create_binary, place
from aula_ws.services.clock import utc_now
from aula_ws.services.sync_batches import KINDS, apply_snapshot, load_snapshot
from aula_ws.services.sync_capture import capture_drop_folder
from aula_ws.store import sync as store
from aula_ws.store.database import full_database_reported
from aula_ws.store.sync_locks import runner_lock, this_runner
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.sync.filestore import FileStore
from aula_ws.sync.lines import PlanContext

log = logging.getLogger(__name__)


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


def with_encoding(settings: Settings, encoding: str | None) -> Settings:
    """The settings of one run read in `encoding` (None or empty: the `encoding` setting)."""
    if not encoding:
        return settings
    chosen = encoding.strip().lower()
    if chosen not in ENCODINGS:
        raise InvalidRequest(f"encoding {encoding[:40]!r} is not one of {', '.join(ENCODINGS)}")
    return replace(settings, sync=replace(settings.sync, encoding=chosen))


def sync_file(
    engine: Engine,
    settings: Settings,
    kind: str,
    path: Path,
    simulate: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    want_text: bool = False,
    capture: bool = True,
    encoding: str | None = None,
) -> SyncResult:
    """Runs the sync file at `path` (in the file store or anywhere), after capturing the drop folder;
    `encoding` (utf-8 or iso-8859-1) overrides the `encoding` setting for this run.

    A report, tryback or database that cannot be written (a full disk) before the commit
    applies nothing, leaves no half-written report and raises WriteFailed naming it."""
    check_kind(kind)
    settings = with_encoding(settings, encoding)
    now = now or utc_now()
    path = path.resolve()
    if problem := file_name_problem(path.name):
        raise InvalidRequest(problem)
    result = SyncResult(kind, path.name, simulate)
    with _nothing_applied(path.name):
        if capture:
            capture_drop_folder(engine, settings, now)
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
                _forget_run(engine, run_id)
                raise
            _place_outputs(settings, path, result, now, want_text)
            try:
                with UnitOfWork(engine) as uow:
                    store.set_run_state(uow.connection, run_id, "done", utc_now())
                    uow.commit()
            except SQLAlchemyError as error:  # left `applied`: the next run finds its file archived
                log.warning("sync %s: run %s done, but its state could not be recorded: %s", kind, run_id, error)
    return result


def _forget_run(engine: Engine, run_id: int) -> None:
    """A run that failed on its own (nothing applied) is not a killed run: its file stays as it is."""
    try:
        with UnitOfWork(engine) as uow:
            store.set_run_state(uow.connection, run_id, "crashed", utc_now())
            uow.commit()
    except SQLAlchemyError as error:  # the database is full too: the next run sets the file aside
        log.warning("sync run %s failed and its state could not be recorded: %s", run_id, error)


def _nothing_outcome(name: str) -> str:
    return f"nothing of {name} was applied"


@contextmanager
def _nothing_applied(name: str) -> Iterator[None]:
    """WriteFailed (a file, or a full database) before the commit: says nothing of `name` was applied."""
    outcome = _nothing_outcome(name)
    try:
        with full_database_reported(outcome):
            yield
    except WriteFailed as failed:
        if failed.applied:
            raise  # only the outputs of an applied run: it says so itself
        raise WriteFailed(failed.what, failed.path, failed.reason, outcome) from None


def sync_upload(
    engine: Engine,
    settings: Settings,
    kind: str,
    content: bytes,
    file_name: str | None,
    simulate: bool = False,
    now: datetime | None = None,
    encoding: str | None = None,
) -> SyncResult:
    """Runs uploaded content: stored as `file_name` in the file store (a simulation stores nothing).

    The content is staged under a name of its own, then stored under the first free name of
    `file_name`, `<stem>.2<ext>`...: two uploads of one name never share a file. A run that is
    refused (another runner busy) or fails before its commit leaves nothing in the store."""
    check_kind(kind)
    settings = with_encoding(settings, encoding)
    name = (file_name or "").strip() or settings.sync.file_names[kind]
    if problem := names.store_name_problem(name):
        raise InvalidRequest(problem)
    now = now or utc_now()
    files = FileStore(settings.data_dir)
    with _nothing_applied(name):
        files.create()
        if simulate:
            result = SyncResult(kind, name, True)
            _run(engine, settings, kind, io.BytesIO(content), files.root / name, result, now, None)
            return _place_outputs(settings, files.root / name, result, now, True)
        capture_drop_folder(engine, settings, now)
        target = store_upload(files, name, content)
    try:
        # `settings` already reads in `encoding`
        return sync_file(engine, settings, kind, target, now=now, want_text=True, capture=False)
    except (SyncBusy, WriteFailed) as error:
        if not isinstance(error, WriteFailed) or not error.applied:
            target.unlink(missing_ok=True)
        raise


def store_upload(files: FileStore, name: str, content: bytes) -> Path:
    """`content` into the store under the first free name of `name` (staged in .work first);
    also the console's upload into the file manager."""
    staged, output = create_binary(files.work, f"upload-{name}")
    try:
        with output:
            output.write(content)
        return place(staged, files.root, name)
    except OSError as error:
        staged.unlink(missing_ok=True)
        raise WriteFailed.of("the uploaded file", error, path=staged) from None


def set_aside_killed_runs(engine: Engine, kind: str, now: datetime) -> list[Path]:
    """Runs left unfinished were killed (we hold the lock): a `running` file is renamed
    `<name>-tryback-failed.<ext>`; an `applied` one (committed, then killed) is archived."""
    moved = []
    with UnitOfWork(engine) as uow:
        for run_id, file_path, state in store.unfinished_runs(uow.connection, kind):
            path = Path(file_path)
            if path.exists():
                try:
                    if state == "running":
                        moved.append(place(path, path.parent, names.failed_name(path.name)))
                        log.warning(
                            "sync %s: the run of %s was killed part-way; set aside as %s", kind, path, moved[-1]
                        )
                    else:
                        moved.append(place(path, path.parent, names.archive_name(now, path.name)))
                except OSError as error:
                    raise WriteFailed.of(f"the set-aside of {path.name}", error) from None
            store.set_run_state(uow.connection, run_id, "crashed", now)
        uow.commit()
    return moved


def _run(
    engine: Engine,
    settings: Settings,
    kind: str,
    source: BinaryIO,
    path: Path,
    result: SyncResult,
    now: datetime,
    progress: Progress | None,
    run_id: int | None = None,
) -> None:
    files = FileStore(settings.data_dir)
    files.create()
    tryback_name = names.tryback_name(now, path.name)
    report = Report(
        files.work,
        names.report_name(now, path.name),
        lambda _report: tryback_name,
        settings.sync.encoding,
        SyncCounters(),
        rejects_what="the tryback file",
        prefix=names.SIMULATION_PREFIX if result.simulate else "",
    )
    result.counters = report.counters
    try:
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
        report.finish()
    except BaseException:
        report.discard()
        raise
    result.report_path = report.path
    result.tryback_path = report.rejects_path


def plan_context(settings: Settings, now: datetime) -> PlanContext:
    return PlanContext(
        now=now,
        zone=settings.timezone,
        options=settings.sync,
        hash_password=hash_password,
    )


def _run_lines(
    engine: Engine,
    settings: Settings,
    kind: str,
    source: BinaryIO,
    report: Report[SyncCounters],
    now: datetime,
    simulate: bool,
    progress: Progress | None,
    run_id: int | None,
) -> None:
    spec = KINDS[kind]
    ctx = plan_context(settings, now)
    lines = open_split_lines(source, settings.sync.encoding, spec.has_header, settings.sync.csvseparator)
    header = None
    read = spec.read
    if spec.has_header:
        if lines.header is None or lines.header.fields is None:
            raise HeaderError("the file is empty (no header line)")
        header = read_header(kind, lines.header.fields)
        report.header_raw = lines.header.raw
        for unknown in header.unknown:
            report.warning(lines.header.line, unknown_column_warning(unknown))
        read = _width_checked(spec.read, len(lines.header.fields))
    with fewer_collections(), UnitOfWork(engine) as uow:
        profiles = store.profile_codes(uow.connection)
        for batch in batches(lines.body):
            parsed = [read_line(line.raw, line.fields, read, header, ctx) for line in batch]
            wants = spec.wants([p for p in parsed if not isinstance(p, RowError)], ctx)
            snap = load_snapshot(uow.connection, wants, profiles)
            for line, record in zip(batch, parsed, strict=True):
                try:
                    if isinstance(record, RowError):
                        raise record
                    for counter, message in spec.plan(record, snap, ctx):
                        report.action(line.line, counter, message)
                except RowError as error:
                    report.failure(line.line, str(error), raw=line.raw)
            apply_snapshot(uow.connection, snap, ctx)
            report.counters.processed += len(batch)
            if progress is not None:
                progress(report.counters.processed)
        if run_id is not None:
            store.set_run_state(uow.connection, run_id, "applied")
        report.finish()  # before the commit: a report that cannot be written applies nothing
        if not simulate:
            uow.commit()


def _width_checked(read: Callable[..., Any], width: int) -> Callable[..., Any]:
    def checked(fields: list[str], *context: Any) -> Any:
        check_width(fields, width)
        return read(fields, *context)

    return checked


def _place_outputs(settings: Settings, path: Path, result: SyncResult, now: datetime, want_text: bool) -> SyncResult:
    """Report to reports/ (unless disabled), tryback beside the input, input to archives/ (or
    deleted, with `filecleanup` and no archive);
    a simulation keeps only its report. Every name is claimed, never replaced; these are
    renames and links (no space needed), so after the commit they fail only on a broken disk."""
    files = FileStore(settings.data_dir)
    applied = not result.simulate and result.refused is None
    what = "the tryback file"
    try:
        if result.tryback_path is not None:
            if want_text:
                result.tryback = result.tryback_path.read_bytes()
            if settings.sync.filefailed and not result.simulate:
                result.tryback_path = place(result.tryback_path, path.parent, names.tryback_name(now, path.name))
            else:
                result.tryback_path.unlink()
                result.tryback_path = None
        what = "the archive"
        if settings.sync.filearchive and applied:
            result.archive_path = place(path, files.archives, names.archive_name(now, path.name))
        elif settings.sync.filecleanup and applied:
            path.unlink()
        what = "the report"
        assert result.report_path is not None
        if want_text:
            result.report_text = result.report_path.read_text(encoding="utf-8")
        if settings.sync.storereport:
            result.report_path = place(result.report_path, files.reports, names.report_name(now, path.name))
        else:
            result.report_path.unlink()
            result.report_path = None
    except OSError as error:
        outcome = f"{path.name} was applied; the rest is in {files.work}" if applied else _nothing_outcome(path.name)
        raise WriteFailed.of(what, error, outcome, applied=applied) from None
    return result
