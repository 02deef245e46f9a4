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
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine

from aula_ws.config import Settings
from aula_ws.domain import boardz
from aula_ws.domain import etl as rules
from aula_ws.domain.contract_params import parse_group_id
from aula_ws.domain.etl import ACKNOWLEDGE, DELIVERIES, PLUGINS, TEST, TEST_LIMIT, Key, Position, Request
from aula_ws.errors import ContractError, EtlBusy, NotAllowed, NotFound
from aula_ws.services.clock import utc_now
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from aula_ws.store import etl as etl_store
from aula_ws.store.unit_of_work import UnitOfWork

BOARDZ_VERSION = "2019071400"  # the boardz version whose output we write (special_test tells it)


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


def add_instance(
    engine: Engine, plugin: str, name: str, now: datetime, masquerade: bool = False, delivery: str | None = None
) -> int:
    """A new extraction instance with no marks; `masquerade` (boardz) pseudonymises logins;
    `delivery` says what moves its marks (see set_delivery)."""
    if plugin not in PLUGINS:
        raise NotAllowed(f"unknown ETL plugin {plugin!r}: one of {', '.join(PLUGINS)}")
    if not name.strip():
        raise NotAllowed("an ETL instance needs a name")
    settings: dict[str, Any] = {}
    if masquerade:
        if plugin != "boardz":
            raise NotAllowed("only boardz instances masquerade logins")
        settings = {"masquerade": True, "salt": secrets.token_hex(16)}
    if delivery is not None:
        settings["delivery"] = _delivery(delivery)
    with UnitOfWork(engine) as uow:
        instance_id = etl_store.add_instance(uow.connection, plugin, name.strip(), settings, now)
        if instance_id is None:
            raise NotAllowed(f"an ETL instance named {name.strip()!r} already exists")
        uow.commit()
    return instance_id


def set_delivery(engine: Engine, instance_id: int, delivery: str) -> None:
    """`extraction` (boardz, the default): an extraction without `from` continues after the
    last record delivered; `acknowledged`: after the last acknowledged (repeats until then)."""
    chosen = _delivery(delivery)
    with UnitOfWork(engine) as uow:
        instance = etl_store.find_instance(uow.connection, instance_id)
        if instance is None:
            raise NotFound("ETL instance", instance_id)
        etl_store.save_settings(uow.connection, instance_id, {**instance.settings, "delivery": chosen})
        uow.commit()


def _delivery(value: str) -> str:
    if value not in DELIVERIES:
        raise NotAllowed(f"unknown ETL delivery {value!r}: one of {', '.join(DELIVERIES)}")
    return value


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
    testmode: str | None = None,
) -> EtlAnswer:
    """One extraction: at most `settings.etl_max_records` records of the query, in
    (time, key) order from where the instance's marks say (see aula_ws.domain.etl)."""
    request = rules.parse_request(plugin, instance_id, queryparams, testmode)
    current = now()
    with UnitOfWork(engine) as uow:
        instance = etl_store.find_instance(uow.connection, request.instance_id)
    if instance is None or instance.plugin != request.plugin:
        raise rules.invalid(f"No {request.plugin} ETL instance with id {request.instance_id}")
    if request.query == TEST:
        at = rules.unix(current)
        return EtlAnswer(TEST, 0, at, at, rules.connection_xml(current, BOARDZ_VERSION))
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

Reader = Callable[[Connection, Position | None, datetime, int], Sequence[Any]]
Builder = Callable[[Connection, Sequence[Any], boardz.Window], list[tuple[Any, ...]]]


def _actions(connection: Connection, rows: Sequence[Any], window: boardz.Window) -> list[tuple[Any, ...]]:
    """The page's events with each user's next event (in the page, else one look-up per user)."""
    following: dict[int, datetime] = {}
    nexts: list[datetime | None] = []
    for row in reversed(rows):
        nexts.append(following.get(row.user_id))
        following[row.user_id] = row.time
    nexts.reverse()
    last_of_user = [row.user_id for row, next_time in zip(rows, nexts, strict=True) if next_time is None]
    later = (
        etl_store.next_event_times(connection, last_of_user, Position(rows[-1].time, (rows[-1].id,))) if rows else {}
    )
    return [
        boardz.values(
            boardz.ACTION_FIELDS,
            boardz.action_record(
                boardz.Action(
                    r.id,
                    r.time,
                    r.action,
                    r.user_id,
                    r.username,
                    boardz.GroupLabel(r.group_id, r.idnumber, r.fullname),
                    r.visible,
                    r.unit_id,
                    r.code,
                    r.name,
                    r.perfil,
                    r.cohort_id,
                    next_time if next_time is not None else later.get(r.user_id),
                ),
                window,
            ),
        )
        for r, next_time in zip(rows, nexts, strict=True)
    ]


def _grades(connection: Connection, rows: Sequence[Any], window: boardz.Window) -> list[tuple[Any, ...]]:
    return [
        boardz.values(boardz.GRADE_FIELDS, boardz.grade_record(boardz.Grade(row[0], *row[2:]), window)) for row in rows
    ]


# query -> how to read a page in (time, id) order, how to make its records, their fields
INCREMENTAL: dict[str, tuple[Reader, Builder, tuple[str, ...]]] = {
    "special_actions": (etl_store.activity_page, _actions, boardz.ACTION_FIELDS),
    "special_grades": (etl_store.session_page, _grades, boardz.GRADE_FIELDS),
}
ACADEMICS = "special_academics"
EMPTY = ("special_documents", "special_communications")  # we hold no such data
SOURCES = (*INCREMENTAL, ACADEMICS, *EMPTY)


def _window(settings: Settings, from_s: int, to_s: int) -> boardz.Window:
    return boardz.Window(urlsplit(settings.wwwroot).hostname or "", settings.wwwroot, from_s, to_s)


def _limit(settings: Settings, request: Request) -> int:
    return min(TEST_LIMIT, settings.etl_max_records) if request.testmode else settings.etl_max_records


def _boardz(
    engine: Engine, settings: Settings, request: Request, instance: etl_store.InstanceRecord, now: datetime
) -> Work:
    """A boardz extraction (actions, grades): the records after the start position, up to `to`;
    the delivered mark moves to the last one (not in testmode)."""
    if request.query == ACADEMICS:
        return _academics(engine, settings, request, instance, now)
    if request.query in EMPTY:
        return _empty(settings, request, now)
    read, build, fields = INCREMENTAL[request.query]
    salt = instance.settings.get("salt") if instance.settings.get("masquerade") else None
    delivery = instance.settings.get("delivery", DELIVERIES[0])

    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        mark = marks.get(request.query, etl_store.Marks(None, None))
        start = rules.start_position(request.from_s, mark.delivered, mark.acked, delivery)
        before = rules.end_before(request.to_s, now)
        window = _window(settings, 0 if start is None else rules.unix(start.time), rules.unix(before) - 1)
        with UnitOfWork(engine) as uow:
            rows = read(uow.connection, start, before, _limit(settings, request))
            values = build(uow.connection, rows, window)
        if salt is not None:
            at = fields.index("username")
            values = [(*v[:at], rules.masked(v[at], salt), *v[at + 1 :]) for v in values]
        first, last = rules.wire_times([row[0] for row in rows], start)
        end = Position(rows[-1][0], (rows[-1][1],)) if rows else start
        answer = EtlAnswer(request.query, len(rows), first, last, rules.records_xml(request.query, fields, values))
        return answer, _deliver(request.instance_id, request.query, None if request.testmode else end, now)

    return work


def _academics(
    engine: Engine, settings: Settings, request: Request, instance: etl_store.InstanceRecord, now: datetime
) -> Work:
    """boardz's academics: a full snapshot of the memberships every pass, paged in
    (group, user) order; a pass continues after the last membership delivered (acknowledged,
    with `delivery` `acknowledged`) and the next pass starts once a page comes back short."""
    salt = instance.settings.get("salt") if instance.settings.get("masquerade") else None
    delivery = instance.settings.get("delivery", DELIVERIES[0])
    limit = _limit(settings, request)

    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        mark = marks.get(ACADEMICS, etl_store.Marks(None, None))
        position = mark.delivered if delivery == "extraction" else mark.acked
        after = None if position is None or position.key is None else (position.key[0], position.key[1])
        at = rules.unix(now)
        window = _window(settings, 0, at)
        with UnitOfWork(engine) as uow:
            rows = etl_store.membership_snapshot(uow.connection, after, limit)
            groups = (
                etl_store.groups_of_membership_range(
                    uow.connection, (rows[0].group_id, rows[0].user_id), (rows[-1].group_id, rows[-1].user_id)
                )
                if rows
                else {}
            )
        values = [
            boardz.values(
                boardz.ACADEMIC_FIELDS,
                boardz.academic_record(
                    boardz.Membership(
                        boardz.GroupLabel(r.group_id, r.idnumber, r.fullname),
                        r.username if salt is None else rules.masked(r.username, salt),
                        r.perfil,
                        r.name,
                        r.administrador_grupo,
                        r.responsable_grupo,
                        r.estado,
                        r.fecha_alta,
                        r.endtime,
                        groups.get((r.group_id, r.user_id), []),
                    ),
                    window,
                ),
            )
            for r in rows
        ]
        complete = len(rows) < limit
        end = Position(now, None if complete else (rows[-1].group_id, rows[-1].user_id))
        answer = EtlAnswer(ACADEMICS, len(rows), at, at, rules.records_xml(ACADEMICS, boardz.ACADEMIC_FIELDS, values))
        return answer, _deliver(request.instance_id, ACADEMICS, None if request.testmode else end, now)

    return work


def _empty(settings: Settings, request: Request, now: datetime) -> Work:
    def work(marks: dict[str, etl_store.Marks]) -> tuple[EtlAnswer, Writer]:
        at = rules.unix(now)
        return EtlAnswer(request.query, 0, at, at, rules.records_xml(request.query, (), [])), _deliver(
            request.instance_id, request.query, None, now
        )

    return work


def _acknowledge(request: Request, now: datetime) -> Work:
    """Commit the delivered marks (of `ackquery`, else of every query) as acknowledged."""
    ackquery = rules.text_param(request.params, "ackquery")
    if ackquery is not None and ackquery not in SOURCES:
        raise rules.invalid(f"ackquery must be one of {', '.join(SOURCES)}, not {ackquery[:60]!r}")

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
            rules.acknowledge_xml(times[-1] if times else None),
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
        answer = EtlAnswer(
            request.query, len(members), at, at, rules.records_xml(request.query, PROGRESS_FIELDS, values)
        )
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
            # the page goes on after the last (group, login) delivered, read from there in the
            # database's order of logins (keyset paging), never the whole group
            group_id = parse_group_id(group)
            if after is not None and after[0] > group_id:
                continue
            login_after = after[1] if after is not None and after[0] == group_id else None
            members = obtener_avance_usuarios(
                engine, settings.timezone, query, now=lambda: snapshot, after=login_after, limit=limit - len(page)
            )
        except ContractError as error:
            raise rules.invalid(f"{error.name}: {error.message}") from None
        page.extend(members)
        if len(page) == limit:
            return page
    return page
