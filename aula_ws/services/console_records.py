"""Use cases of the console's read-only screens: the synthesis and the control screens."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.sync_files import LOCK_FILES
from aula_ws.errors import NotFound
from aula_ws.services import etl, peers
from aula_ws.services.console_files import StoredFile, area_dir, counters_of, lines_mentioning, list_area
from aula_ws.store import console_records as store
from aula_ws.store import sync as sync_store
from aula_ws.store.unit_of_work import Reading
from aula_ws.sync.filestore import FileStore
from aula_ws.sync.schedule import next_slot

LISTS = tuple(store.LISTS)
PAGE = store.PAGE


@dataclass(frozen=True)
class RunSummary:
    kind: str
    input_name: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    report: str | None
    counters: list[tuple[str, int]]


@dataclass(frozen=True)
class Schedule:
    kind: str
    expression: str
    last_run: datetime | None
    next_run: datetime


@dataclass(frozen=True)
class Lock:
    name: str
    age_minutes: int


@dataclass(frozen=True)
class KeyState:
    generation: int
    created_at: datetime
    fingerprint: str


@dataclass
class Synthesis:
    counts: dict[str, int]
    runs: list[RunSummary]
    imports: list[tuple[StoredFile, list[tuple[str, int]]]]
    schedules: list[Schedule]
    locks: list[Lock]
    key: KeyState | None
    peers: list[peers.Peer]
    instances: list[etl.InstanceSummary]
    problems: list[str] = field(default_factory=list)


def synthesis(engine: Engine, settings: Settings, key_policy: peers.KeyPolicy, now: datetime) -> Synthesis:
    with Reading(engine) as uow:
        counts = store.counts(uow.connection)
        runs = store.last_runs(uow.connection)
        last_scheduled = sync_store.last_scheduled_runs(uow.connection)
    reports = list_area(settings, "reports")
    summaries = []
    for run in runs:
        name = PurePath(run.file_path).name
        report = next((r.name for r in reports if r.name.endswith(f"_report_{name}")), None)
        path = area_dir(settings, "reports") / report if report else None
        summaries.append(
            RunSummary(run.kind, name, run.state, run.started_at, run.finished_at, report, counters_of(path))
        )
    journals = [f for f in list_area(settings, "imports") if f.name.endswith(".journal.txt")][:5]
    imports = [(f, counters_of(area_dir(settings, "imports") / f.name)) for f in journals]
    schedules = [
        Schedule(kind, expression, last_scheduled.get(kind), next_slot(expression, now, settings.timezone))
        for kind, expression in sorted(settings.sync.schedules.items())
        if expression
    ]
    result = Synthesis(counts, summaries, imports, schedules, _locks(settings, now), None, [], [])
    try:
        own = peers.current_key(engine, key_policy, now)
        result.key = KeyState(own.generation, own.created_at, peers.fingerprint(own.certificate_pem))
    except Exception as error:  # a key that cannot be made (no wwwroot...) must not hide the rest
        result.problems.append(f"MNET key: {error}")
    result.peers = peers.list_peers(engine)
    result.instances = etl.list_instances(engine)
    return result


def _locks(settings: Settings, now: datetime) -> list[Lock]:
    drop = FileStore(settings.data_dir).drop
    found = []
    for name in LOCK_FILES:
        try:
            modified = datetime.fromtimestamp((drop / name).stat().st_mtime, UTC).replace(tzinfo=None)
        except OSError:
            continue
        found.append(Lock(name, max(0, int((now - modified).total_seconds() // 60))))
    return found


def page_of(engine: Engine, kind: str, text: str, number: int) -> store.Page:
    if kind not in store.LISTS:
        raise NotFound("list", kind)
    with Reading(engine) as uow:
        return store.page_of(uow.connection, kind, text.strip()[:100], max(0, number))


@dataclass(frozen=True)
class Record:
    kind: str
    fields: dict[str, Any]
    memberships: list[tuple[Any, ...]]
    cohorts: list[tuple[Any, ...]]
    units: list[tuple[Any, ...]]
    sync_lines: list[tuple[str, str]]


Rows = list[tuple[Any, ...]]
# per kind: what it is called, its fields, (memberships, cohorts, units), the name sync reports use
_RECORDS: dict[str, tuple[str, Callable[..., dict[str, Any] | None], Callable[..., tuple[Rows, Rows, Rows]], str]] = {
    "users": (
        "user",
        store.user_record,
        lambda c, i: (store.memberships_of_user(c, i), store.cohorts_of_user(c, i), []),
        "username",
    ),
    "groups": (
        "course",
        store.group_record,
        lambda c, i: (store.members_of_group(c, i), [], store.units_of_group(c, i)),
        "shortname",
    ),
    "cohorts": ("cohort", store.cohort_record, lambda c, i: (store.members_of_cohort(c, i), [], []), "name"),
}


def record(engine: Engine, settings: Settings, kind: str, record_id: int) -> Record:
    """One user, course (group) or cohort with its memberships and the last sync lines naming it."""
    if kind not in _RECORDS:
        raise NotFound("record kind", kind)
    what, fields_of, related, name = _RECORDS[kind]
    with Reading(engine) as uow:
        fields = fields_of(uow.connection, record_id)
        if fields is None:
            raise NotFound(what, record_id)
        memberships, cohorts, units = related(uow.connection, record_id)
    needle = str(fields.get("idnumber") or fields[name]) if kind == "cohorts" else str(fields[name])
    return Record(kind, fields, memberships, cohorts, units, lines_mentioning(settings, needle))


def picture(engine: Engine, user_id: int, large: bool = False) -> bytes:
    with Reading(engine) as uow:
        found = sync_store.picture_of(uow.connection, user_id)
    if found is None:
        raise NotFound("picture", user_id)
    return found[0] if large else found[1]
