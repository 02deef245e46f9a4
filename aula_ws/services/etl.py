"""Use cases: ETL extraction instances and report_etl_get (CONTRACT.md section 6).

An extraction holds its instance's lease, kept in the instance's row in the
database (`lease_until`, taken by one atomic UPDATE), so that across every
process only one extraction runs per instance; a concurrent one gets ETLBUSY, and a crashed one's lease
expires. The marks it moves are written in the transaction that gives the
lease back, so an extraction that fails moves nothing.
"""

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from aula_ws import __version__
from aula_ws.config import Settings
from aula_ws.domain import etl as rules
from aula_ws.domain.etl import ACKNOWLEDGE, PLUGINS, TEST, Key, Position, Request
from aula_ws.errors import ContractError, EtlBusy, EtlError, NotAllowed, NotFound
from aula_ws.services.clock import utc_now
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from aula_ws.store import etl as etl_store
from aula_ws.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class EtlAnswer:
    recordset: str
    records: int
    firsttime: int
    lasttime: int
    xmlcontent: str


@dataclass(frozen=True)
class InstanceSummary:
    instance: etl_store.InstanceRecord
    marks: dict[str, etl_store.Marks]


# --------------------------------------------------------------------------- instances


def add_instance(engine: Engine, plugin: str, name: str, now: datetime, masquerade: bool = False) -> int:
    """A new extraction instance with no marks; `masquerade` (boardz) pseudonymises logins."""
    if plugin not in PLUGINS:
        raise NotAllowed(f"unknown ETL plugin {plugin!r}: one of {', '.join(PLUGINS)}")
    if not name.strip():
        raise NotAllowed("an ETL instance needs a name")
    settings: dict[str, Any] = {}
    if masquerade:
        if plugin != "boardz":
            raise NotAllowed("only boardz instances masquerade logins")
        settings = {"masquerade": True, "salt": secrets.token_hex(16)}
    with UnitOfWork(engine) as uow:
        instance_id = etl_store.add_instance(uow.connection, plugin, name.strip(), settings, now)
        if instance_id is None:
            raise NotAllowed(f"an ETL instance named {name.strip()!r} already exists")
        uow.commit()
    return instance_id


def list_instances(engine: Engine) -> list[InstanceSummary]:
    with UnitOfWork(engine) as uow:
        return [
            InstanceSummary(instance, etl_store.marks(uow.connection, instance.id))
            for instance in etl_store.list_instances(uow.connection)
        ]


def instance_plugin(engine: Engine, instance_id: int) -> str:
    with UnitOfWork(engine) as uow:
        instance = etl_store.find_instance(uow.connection, instance_id)
    if instance is None:
        raise NotFound("ETL instance", instance_id)
    return instance.plugin


def remove_instance(engine: Engine, instance_id: int) -> None:
    with UnitOfWork(engine) as uow:
        if not etl_store.remove_instance(uow.connection, instance_id):
            raise NotFound("ETL instance", instance_id)
        uow.commit()


def reset_marks(engine: Engine, instance_id: int, query: str | None = None) -> int:
    """Forget the instance's marks (of one query): its next extractions start from the beginning."""
    with UnitOfWork(engine) as uow:
        if etl_store.find_instance(uow.connection, instance_id) is None:
            raise NotFound("ETL instance", instance_id)
        count = etl_store.reset_marks(uow.connection, instance_id, query)
        uow.commit()
    return count


# --------------------------------------------------------------------------- report_etl_get


def report_etl_get(
    engine: Engine,
    settings: Settings,
    plugin: str | None,
    instance_id: str | int | None,
    queryparams: str | None,
    now: Callable[[], datetime] = utc_now,
) -> EtlAnswer:
    """One extraction: at most `settings.etl_max_records` records of the query, in
    (time, key) order from where the instance's marks say (see aula_ws.domain.etl)."""
    request = rules.parse_request(plugin, instance_id, queryparams)
    current = now()
    with UnitOfWork(engine) as uow:
        instance = etl_store.find_instance(uow.connection, request.instance_id)
    if instance is None or instance.plugin != request.plugin:
        raise EtlError("unknowninstance", f"No {request.plugin} ETL instance with id {request.instance_id}")
    if request.query == TEST:
        at = rules.unix(current)
        return EtlAnswer(TEST, 0, at, at, rules.connection_xml(current, __version__))
    if request.query == ACKNOWLEDGE:
        work = _acknowledge(request, current)
    elif request.plugin == "progress":
        work = _progress(engine, settings, request, current)
    else:
        work = _boardz(engine, settings, request, instance, current)
    return _under_lease(engine, request.instance_id, current, settings.etl_lease_seconds, work)


Writer = Callable[[Connection], None]
Work = Callable[[dict[str, etl_store.Marks]], tuple[EtlAnswer, Writer]]


def _under_lease(engine: Engine, instance_id: int, now: datetime, seconds: int, work: Work) -> EtlAnswer:
    owner = uuid.uuid4().hex
    with UnitOfWork(engine) as uow:
        taken = etl_store.acquire_lease(uow.connection, instance_id, owner, now, now + timedelta(seconds=seconds))
        uow.commit()
    if not taken:
        raise EtlBusy(instance_id)
    try:
        with UnitOfWork(engine) as uow:
            marks = etl_store.marks(uow.connection, instance_id)
        answer, write = work(marks)
        with UnitOfWork(engine) as uow:
            if not etl_store.release_lease(uow.connection, instance_id, owner):
                raise EtlBusy(instance_id)  # our lease expired and was taken: write nothing
            write(uow.connection)
            uow.commit()
        return answer
    except BaseException:
        with UnitOfWork(engine) as uow:
            etl_store.release_lease(uow.connection, instance_id, owner)
            uow.commit()
        raise


def _deliver(instance_id: int, query: str, end: Position | None, now: datetime) -> Writer:
    def write(connection: Connection) -> None:
        if end is not None:
            etl_store.save_mark(connection, instance_id, query, now, delivered=end)

    return write


# --------------------------------------------------------------------------- boardz


@dataclass(frozen=True)
class Source:
    """A boardz query: how to read a page, its field names, a row's tie-breaking key."""

    read: Callable[[Connection, Position | None, datetime, int], Sequence[Sequence[Any]]]
    fields: tuple[str, ...]
    key: Callable[[Sequence[Any]], Key]
    values: Callable[[Sequence[Any]], Sequence[Any]]


def _by_id(row: Sequence[Any]) -> Key:
    return (row[1],)


def _with_unix_time(row: Sequence[Any]) -> Sequence[Any]:
    return (rules.unix(row[0]), *row[1:])


SOURCES = {
    "special_actions": Source(
        etl_store.activity_page,
        ("time", "id", "action", "groupid", "group", "unit", "unittype", "username"),
        _by_id,
        _with_unix_time,
    ),
    "special_grades": Source(
        etl_store.session_page,
        ("time", "id", "status", "score", "timespent", "groupid", "group", "unit", "unittype", "username"),
        _by_id,
        _with_unix_time,
    ),
    "special_academics": Source(
        etl_store.membership_page,
        (
            "time",
            "groupid",
            "perfil",
            "administrador_grupo",
            "responsable_grupo",
            "estado",
            "fecha_alta",
            "group",
            "username",
        ),
        lambda row: (row[1], row[2]),
        lambda row: (rules.unix(row[0]), row[1], *row[3:]),  # not the internal user id
    ),
}


def _boardz(
    engine: Engine, settings: Settings, request: Request, instance: etl_store.InstanceRecord, now: datetime
) -> Work:
    source = SOURCES[request.query]
    salt = instance.settings.get("salt") if instance.settings.get("masquerade") else None

    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        mark = marks.get(request.query, etl_store.Marks(None, None))
        start = rules.start_position(request.from_s, mark.delivered, mark.acked)
        before = rules.end_before(request.to_s, now)
        with UnitOfWork(engine) as uow:
            rows = source.read(uow.connection, start, before, settings.etl_max_records)
        values = [source.values(row) for row in rows]
        if salt is not None:  # the login is every source's last field
            values = [(*v[:-1], rules.masked(v[-1], salt)) for v in values]
        first, last = rules.wire_times([row[0] for row in rows], start)
        end = Position(rows[-1][0], source.key(rows[-1])) if rows else start
        answer = EtlAnswer(request.query, len(rows), first, last, rules.logrecords(source.fields, values))
        return answer, _deliver(request.instance_id, request.query, end, now)

    return work


def _acknowledge(request: Request, now: datetime) -> Work:
    """Commit the delivered marks (of `ackquery`, else of every query) as acknowledged."""
    ackquery = rules.text_param(request.params, "ackquery")
    if ackquery is not None and ackquery not in SOURCES:
        raise EtlError("unknownquery", f"ackquery must be one of {', '.join(SOURCES)}, not {ackquery[:60]!r}")

    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        committed = {
            query: mark.delivered
            for query, mark in marks.items()
            if (ackquery is None or query == ackquery) and mark.delivered is not None and mark.delivered != mark.acked
        }
        times = sorted(rules.unix(p.time) for p in committed.values())
        answer = EtlAnswer(
            ACKNOWLEDGE,
            len(committed),
            times[0] if times else 0,
            times[-1] if times else 0,
            rules.acknowledge_xml(committed),
        )

        def write(connection: Connection) -> None:
            for query, position in committed.items():
                etl_store.save_mark(connection, request.instance_id, query, now, acked=position)

        return answer, write

    return work


# --------------------------------------------------------------------------- progress

PROGRESS_FIELDS = (
    "administrador_grupo",
    "avance",
    "estado",
    "fecha_alta",
    "id_grupo",
    "id_usuario",
    "perfil",
    "responsable_grupo",
)
_PROGRESS_PARAMETERS = ("perfil", "id_usuario", "fecha_desde", "fecha_hasta")


def _progress(engine: Engine, settings: Settings, request: Request, now: datetime) -> Work:
    """Every membership's avance, as obtener_avance_usuarios computes it (the same
    function, the same parameters), group after group, in (id_grupo, id_usuario) order.
    A pass is one snapshot: continuing from its `lasttime` keeps the instant of its first page."""
    params = {name: rules.text_param(request.params, name) for name in ("id_grupo", *_PROGRESS_PARAMETERS)}

    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        delivered = marks.get(request.query, etl_store.Marks(None, None)).delivered
        continuing = (
            request.from_s is not None and delivered is not None and rules.unix(delivered.time) == request.from_s
        )
        snapshot, after = (delivered.time, delivered.key) if continuing and delivered else (now, None)
        members = _progress_members(engine, settings, params, snapshot, after)
        end = Position(snapshot, (members[-1].id_grupo, members[-1].id_usuario) if members else after or (0, ""))
        at = rules.unix(snapshot)
        values = [[getattr(m, name) for name in PROGRESS_FIELDS] for m in members]
        answer = EtlAnswer(request.query, len(members), at, at, rules.logrecords(PROGRESS_FIELDS, values))
        return answer, _deliver(request.instance_id, request.query, end, now)

    return work


def _progress_members(
    engine: Engine, settings: Settings, params: dict[str, str | None], snapshot: datetime, after: Key | None
) -> list[Any]:
    if params["id_grupo"] is not None:
        groups: list[str] = [params["id_grupo"]]
    else:
        with UnitOfWork(engine) as uow:
            groups = [str(g) for g in etl_store.group_ids(uow.connection, after[0] if after else 0)]
    limit = settings.etl_max_records
    page: list[Any] = []
    for group in groups:
        query = ProgressQuery(group, *(params[name] for name in _PROGRESS_PARAMETERS))
        try:
            members = obtener_avance_usuarios(engine, settings.timezone, query, now=lambda: snapshot)
        except ContractError as error:
            raise EtlError("invalidparameter", f"{error.name}: {error.message}") from None
        for member in members:
            if after is not None and (member.id_grupo, member.id_usuario) <= after:
                continue
            page.append(member)
            if len(page) == limit:
                return page
    return page
