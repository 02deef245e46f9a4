"""Use case: import a statistics file (lesson statistics, course statistics, activity log).

CONTRACT.md section 4. Each line is applied or rejected on its own; the file as
a whole is one transaction: if anything fails part-way, nothing of it is
stored, and importing it again gives the same result. `dry_run` runs the same
pipeline and rolls back: the full report, nothing written. The file is
streamed in batches, so memory stays bounded whatever its size.
"""

import io
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from itertools import filterfalse
from operator import attrgetter, itemgetter
from pathlib import Path, PurePath
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from aula_ws.csvkit.batches import batches, fewer_collections
from aula_ws.csvkit.reader import FileRefused, Record, check_encoding, open_delimited, without_blank
from aula_ws.csvkit.report import Report
from aula_ws.domain import statistics_rows as rows
from aula_ws.domain.csv_rows import Columns, HeaderError, ImportCounters, RowError, read_line
from aula_ws.domain.file_input import encoding_problem, file_name_problem
from aula_ws.errors import InvalidRequest, WriteFailed
from aula_ws.importer.statistics_plan import (
    ENROL_PERFIL,
    ON_EXISTING,
    BatchPlan,
    Lookups,
    Options,
    plan_activity,
    plan_courses,
    plan_lessons,
    plan_usual_lessons,
)
from aula_ws.services.clock import utc_now
from aula_ws.store import progress as progress_store
from aula_ws.store import statistics as store
from aula_ws.store.database import full_database_reported
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.store.users import user_ids


@dataclass(frozen=True)
class ImportOptions:
    on_existing: str = "new-session"
    enrol: bool = False
    header: bool = True
    dry_run: bool = False
    encoding: str = "utf-8"


@dataclass
class ImportResult:
    counters: ImportCounters
    journal_path: Path
    rejects_path: Path | None
    refused: str | None = None  # why the whole file was refused, if it was

    @property
    def journal(self) -> str:
        return self.journal_path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Kind:
    columns: tuple[rows.Column, ...]
    read_line: Callable[..., Any]
    plan: Callable[[list[Any], Lookups, Options], BatchPlan]
    lookups: Callable[["_NameCache", list[Any], Lookups, Options], None]
    apply: Callable[[Connection, BatchPlan], None]
    # the usual batch of a large file, read and planned column by column (None: it is not);
    # any other batch is read and planned line by line, which says why each line is refused
    read_usual: Callable[[list[str], list[list[str] | None], Columns, ZoneInfo], Any] | None = None
    plan_usual: Callable[["_NameCache", Any, Options], tuple[BatchPlan | None, Lookups]] | None = None


def _lesson_lookups(cache: "_NameCache", lines: list[Any], lookups: Lookups, options: Options) -> None:
    logins, groups, units = _fields(lines, "login", "group", "unit")
    cache.read_units(groups, units)
    cache.read_members(logins, groups)
    if options.on_existing == "new-session":
        return  # existing sessions do not matter
    pairs = {
        (lookups.users[line.login], lookups.units[lookups.groups[line.group], line.unit][0])
        for line in lines
        if line.login in lookups.users
        and line.group in lookups.groups
        and (lookups.groups[line.group], line.unit) in lookups.units
    }
    lookups.latest = store.latest_lesson_sessions(cache.connection, pairs)


def _course_lookups(cache: "_NameCache", lines: list[Any], lookups: Lookups, options: Options) -> None:
    logins, groups = _fields(lines, "login", "group")
    cache.read_members(logins, groups)
    if options.on_existing != "new-session":
        lookups.latest = store.latest_course_statuses(cache.connection, cache.pairs(logins, groups))


def _activity_lookups(cache: "_NameCache", lines: list[Any], lookups: Lookups, options: Options) -> None:
    groups, units = _fields(lines, "group", "unit")
    cache.read_units(groups, units)
    keys = set()
    for line in lines:
        if line.login in lookups.users and line.group in lookups.groups:
            group_id = lookups.groups[line.group]
            unit = lookups.units.get((group_id, line.unit)) if line.unit else None
            keys.add((lookups.users[line.login], group_id, unit[0] if unit else None, line.time, line.action))
    lookups.activity = store.existing_activity(cache.connection, keys)


def _plan_usual_lessons(
    cache: "_NameCache", batch: rows.LessonColumns, options: Options
) -> tuple[BatchPlan | None, Lookups]:
    lookups = cache.lookups(batch.login, batch.group)
    cache.read_units(batch.group, batch.unit)
    cache.read_members(batch.login, batch.group)
    return plan_usual_lessons(batch, lookups, options), lookups


def _fields(lines: list[Any], *names: str) -> list[list[Any]]:
    """The lines' values of each named field, one list per name."""
    return [list(map(attrgetter(name), lines)) for name in names]


def _apply_lessons(connection: Connection, plan: BatchPlan) -> None:
    store.enrol_many(connection, plan.enrolments, ENROL_PERFIL)
    if plan.insert_columns is not None:
        store.insert_lesson_columns(connection, plan.insert_columns)
    store.insert_lesson_sessions(connection, plan.inserts)
    store.update_lesson_sessions(connection, plan.updates)


def _apply_courses(connection: Connection, plan: BatchPlan) -> None:
    store.enrol_many(connection, plan.enrolments, ENROL_PERFIL)
    store.insert_course_statuses(connection, plan.inserts)
    store.update_course_statuses(connection, plan.updates)


def _apply_activity(connection: Connection, plan: BatchPlan) -> None:
    store.insert_activity(connection, plan.inserts)


KINDS = {
    "lessons": _Kind(
        rows.LESSON_COLUMNS,
        rows.read_lesson_line,
        plan_lessons,
        _lesson_lookups,
        _apply_lessons,
        rows.read_lesson_columns,
        _plan_usual_lessons,
    ),
    "courses": _Kind(rows.COURSE_COLUMNS, rows.read_course_line, plan_courses, _course_lookups, _apply_courses),
    "activity": _Kind(
        rows.ACTIVITY_COLUMNS, rows.read_activity_line, plan_activity, _activity_lookups, _apply_activity
    ),
}


def check_options(kind: str, options: ImportOptions, name: str = "import.csv") -> None:
    if kind not in KINDS:
        raise InvalidRequest(f"unknown file kind {kind!r}: one of {', '.join(KINDS)}")
    if options.on_existing not in ON_EXISTING:
        raise InvalidRequest(f"on_existing must be one of {', '.join(ON_EXISTING)}, not {options.on_existing!r}")
    for problem in (file_name_problem(name), encoding_problem(options.encoding)):
        if problem is not None:
            raise InvalidRequest(problem)


def import_statistics(
    engine: Engine,
    zone: ZoneInfo,
    kind: str,
    source: BinaryIO,
    name: str,
    options: ImportOptions,
    report_dir: Path,
    now: Callable[[], datetime] = utc_now,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `source` (a `kind` file called `name`); the journal and rejects go to `report_dir`.

    Everything is written (the rows, the journal, the rejects) or nothing: a journal or rejects
    file that cannot be written (a full disk) rolls the rows back, removes what was written and
    raises WriteFailed naming it; so does a full database."""
    check_options(kind, options, name)
    spec = KINDS[kind]
    started = now()
    report = _journal(report_dir, f"{started:%Y%m%d-%H%M%S}_{name}", PurePath(name).suffix or ".csv", options)
    plan_options = Options(options.on_existing, options.enrol, zone, started)
    result = ImportResult(report.counters, report.path, None)
    outcome = f"nothing of {name} was stored; it can be imported again"
    try:
        with full_database_reported(outcome):
            try:
                size = _remaining_bytes(source)  # before reading: the reader may close what it has read
                delimited = open_delimited(source, options.encoding, options.header)
                header = delimited.header
                columns = rows.map_columns(spec.columns, header.fields if header else None)
                report.header_raw = header.raw if header else ""
                for unknown in columns.unknown:
                    report.warning(header.line if header else 1, f'unknown column "{unknown}" ignored')
                with fewer_collections(), UnitOfWork(engine) as uow:
                    with _loading(uow.connection, kind, size, plan_options) as before_refresh:
                        touched = _import_batches(
                            uow.connection, spec, delimited.body, columns, plan_options, report, progress
                        )
                        before_refresh()
                        _refresh_progress(uow.connection, *touched)
                    report.finish()  # before the commit: a journal that cannot be written stores nothing
                    if not options.dry_run:
                        uow.commit()
            except (FileRefused, HeaderError) as refused:
                result.refused = str(refused)
                report.counters.errors += 1
                report.write(f"file: error: {refused}")
                report.counters.added = report.counters.updated = 0
                report.finish()
    except WriteFailed as failed:
        report.discard()
        raise WriteFailed(failed.what, failed.path, failed.reason, outcome) from None
    except BaseException:
        report.discard()
        raise
    result.rejects_path = report.rejects_path
    return result


_first = itemgetter(0)  # the user id of a statistics row
BYTES_PER_LINE = 40  # a short lessons line; the estimate only decides how a large file is loaded


def _loading(
    connection: Connection, kind: str, size: int, options: Options
) -> AbstractContextManager[Callable[[], None]]:
    """Around the load: what to call before the refresh of the maintained progress."""
    if kind != "lessons":
        return nullcontext(lambda: None)
    return store.lessons_loading(connection, size // BYTES_PER_LINE, options.on_existing != "new-session")


def _remaining_bytes(source: BinaryIO) -> int:
    """What is left to read of `source`, when it can say (a file, bytes in memory); else 0."""
    try:
        return max(0, os.fstat(source.fileno()).st_size - source.tell())
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    if isinstance(source, io.BytesIO):
        return len(source.getbuffer()) - source.tell()
    return 0


def _journal(folder: Path, stem: str, suffix: str, options: ImportOptions) -> Report[ImportCounters]:
    """The journal `<folder>/<stem>.journal.txt` and, at the first rejected line, the rejects
    file `<stem without suffix>.rejects<suffix>` beside it: two imports named alike in the same
    second get `<stamp>_<name>` and `<stamp>_<name stem>.2<suffix>`, never one another's file."""

    def rejects_name(journal: str) -> str:
        return f"{PurePath(journal.removesuffix('.journal.txt')).stem}.rejects{suffix}"

    return Report(
        folder,
        f"{stem}.journal.txt",
        rejects_name,
        check_encoding(options.encoding),
        ImportCounters(),
        what="the journal",
        rejects_what="the rejects file",
    )


def _import_batches(
    connection: Connection,
    spec: _Kind,
    records: Iterator[Record],
    columns: Columns,
    options: Options,
    report: Report[ImportCounters],
    progress: Callable[[int], None] | None,
) -> tuple[set[int], set[int]]:
    """Reads, plans and applies the batches; the users and courses whose records it wrote."""
    cache = _NameCache(connection)
    touched_users: set[int] = set()
    touched_groups: set[int] = set()
    for batch in batches(without_blank(records)):
        plan, lookups, group_names = _plan_batch(cache, spec, batch, columns, options)
        spec.apply(connection, plan)
        if plan.insert_columns is not None:
            touched_users.update(plan.insert_columns[0])
        touched_users.update(map(_first, plan.inserts))  # user_id leads every statistics row
        touched_users.update(map(_first, plan.updates.values()))
        groups = lookups.groups
        touched_groups.update(groups[name] for name in group_names if name in groups)
        for index, message in plan.warnings:
            report.warning(batch[index].line, message)
        for index, message in plan.rejected:
            report.failure(batch[index].line, message, raw=batch[index].raw)
        report.counters.processed += len(batch)
        report.counters.added += plan.added
        report.counters.updated += plan.updated
        if progress is not None:
            progress(report.counters.processed)
    return touched_users, touched_groups


def _plan_batch(
    cache: "_NameCache", spec: _Kind, batch: list[Record], columns: Columns, options: Options
) -> tuple[BatchPlan, Lookups, set[str]]:
    """The batch's plan, its look-ups and the course names it uses."""
    usual = None
    if spec.read_usual is not None:
        usual = spec.read_usual([r.raw for r in batch], [r.fields for r in batch], columns, options.zone)
    if usual is not None and spec.plan_usual is not None:
        plan, lookups = spec.plan_usual(cache, usual, options)
        if plan is not None:
            return plan, lookups, set(usual.group)
        lines = usual.lines()  # read already: planned line by line below
    else:
        lines = [read_line(record.raw, record.fields, spec.read_line, columns, options.zone) for record in batch]
    valid = [line for line in lines if not isinstance(line, RowError)]
    logins, groups = _fields(valid, "login", "group")
    lookups = cache.lookups(logins, groups)
    spec.lookups(cache, valid, lookups, options)
    return spec.plan(lines, lookups, options), lookups, set(groups)


def _refresh_progress(connection: Connection, touched_users: set[int], touched_groups: set[int]) -> None:
    """The maintained progress of what the file touched, in its transaction: by user and group
    for a small file, whole groups for a large one (one pass instead of many IN lists)."""
    if not touched_users:
        return
    if len(touched_users) > WHOLE_GROUP_REFRESH:
        progress_store.refresh(connection, group_ids=touched_groups)
    else:
        progress_store.refresh(connection, user_ids=touched_users, group_ids=touched_groups)


WHOLE_GROUP_REFRESH = 5_000


@dataclass
class _NameCache:
    """What the file's names stand for, kept from batch to batch. The first time a course appears,
    its members (login -> id) and units are read whole, one query each, when the cache has room
    for them: a large file then asks nothing more of that course. Names outside such courses are
    looked up batch by batch. Bounded: emptied when it holds more than `limit` logins or pairs."""

    connection: Connection
    users: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    units: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)  # -> (id, type)
    members: set[tuple[int, int]] = field(default_factory=set)  # (user, group), enrolments included
    whole: set[int] = field(default_factory=set)  # courses whose members and units are all here
    too_large: set[int] = field(default_factory=set)  # courses looked up batch by batch
    limit: ClassVar[int] = 200_000

    def lookups(self, logins: Sequence[str], groups: Sequence[str]) -> Lookups:
        """The look-ups of a batch's names (its lines' logins and course names)."""
        if len(self.users) > self.limit or len(self.members) > self.limit:
            for cached in (self.users, self.units, self.members, self.whole):
                cached.clear()
        shortnames = set(groups)
        self.groups.update(store.group_ids(self.connection, set(filterfalse(self.groups.__contains__, shortnames))))
        for group_id in {self.groups[name] for name in shortnames if name in self.groups}:
            if group_id not in self.whole and group_id not in self.too_large:
                self._read_course(group_id)
        # filtered, not `set - dict.keys()`: that walks every name cached so far, at every batch
        unknown = set(filterfalse(self.users.__contains__, set(logins)))
        self.users.update(user_ids(self.connection, unknown))
        return Lookups(self.users, self.groups, self.units, self.members)

    def _read_course(self, group_id: int) -> None:
        members = store.course_members(self.connection, group_id, self.limit - len(self.users))
        if members is None:
            self.too_large.add(group_id)
            return
        self.users.update(members)
        self.members.update((user_id, group_id) for user_id in members.values())
        self.units.update(store.course_units(self.connection, group_id))
        self.whole.add(group_id)

    def read_units(self, groups: Sequence[str], units: Sequence[str | None]) -> None:
        """The units the lines name (course name, unit code) outside the courses read whole."""
        if self._all_whole(groups):
            return
        ids, whole = self.groups, self.whole
        named = set(zip(groups, units, strict=True))
        keys = {(ids[group], unit) for group, unit in named if unit and group in ids and ids[group] not in whole}
        self.units.update(store.units_of(self.connection, keys))

    def read_members(self, logins: Sequence[str], groups: Sequence[str]) -> None:
        """Which (user, course) pairs of the lines are memberships, outside the courses read whole."""
        if not self._all_whole(groups):
            whole = self.whole
            pairs = {pair for pair in self.pairs(logins, groups) if pair[1] not in whole}
            self.members.update(store.memberships_among(self.connection, pairs))

    def pairs(self, logins: Sequence[str], groups: Sequence[str]) -> set[tuple[int, int]]:
        """The (user, course) pairs of the lines whose names are known."""
        users, ids = self.users, self.groups
        named = set(zip(logins, groups, strict=True))
        return {(users[login], ids[group]) for login, group in named if login in users and group in ids}

    def _all_whole(self, groups: Sequence[str]) -> bool:
        return all(self.groups.get(name) in self.whole for name in set(groups))
