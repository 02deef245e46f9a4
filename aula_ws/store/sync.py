"""Queries of the CSV synchronisation: loading a batch's rows, applying its changes in bulk."""

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    false,
    insert,
    or_,
    select,
    update,
)

from aula_ws.store import platform
from aula_ws.store.bulk import bulk_insert, chunks
from aula_ws.store.tables import (
    cohort_courses,
    cohort_members,
    cohorts,
    groups,
    memberships,
    profiles,
    sync_alarms,
    sync_runs,
    sync_schedule,
    units,
    user_pictures,
    users,
)
from aula_ws.store.users import user_ids

USER_FIELDS = ("username", "firstname", "lastname", "email", "idnumber", "suspended", "password_hash", "mnethost")
GROUP_FIELDS = ("id", "shortname", "fullname", "idnumber", "tracks_progress", "startdate", "visible", "created_at")
MEMBERSHIP_FIELDS = (
    "perfil",
    "administrador_grupo",
    "responsable_grupo",
    "estado",
    "fecha_alta",
    "endtime",
    "cohort_id",
)


def profile_codes(connection: Connection) -> frozenset[str]:
    return frozenset(connection.scalars(select(profiles.c.code)))


def load_users(connection: Connection, by: Mapping[str, Collection[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Users whose field (username, idnumber, email or id) is among the values given for it."""
    found: dict[int, dict[str, Any]] = {}
    for field_name, values in by.items():
        column = users.c[field_name]
        for chunk in chunks({v for v in values if v not in (None, "")}):
            rows = connection.execute(select(users.c.id, *[users.c[f] for f in USER_FIELDS]).where(column.in_(chunk)))
            for row in rows:
                found[row.id] = {f: getattr(row, f) for f in USER_FIELDS}
    return list(found.items())


def load_groups(connection: Connection, by: Mapping[str, Collection[Any]]) -> list[tuple[int, dict[str, Any]]]:
    found: dict[int, dict[str, Any]] = {}
    for field_name, values in by.items():
        wanted = {int(v) for v in values if str(v).isdigit()} if field_name == "id" else set(values)
        for chunk in chunks(wanted):
            for row in connection.execute(
                select(*[groups.c[f] for f in GROUP_FIELDS]).where(groups.c[field_name].in_(chunk))
            ):
                found[row.id] = {f: getattr(row, f) for f in GROUP_FIELDS}
    return list(found.items())


def load_units(connection: Connection, group_ids: Collection[int]) -> list[tuple[Any, dict[str, Any]]]:
    result = []
    for chunk in chunks(group_ids):
        query = select(units.c.group_id, units.c.code, units.c.name, units.c.type, units.c.position).where(
            units.c.group_id.in_(chunk)
        )
        result += [((g, code), dict(name=n, type=t, position=p)) for g, code, n, t, p in connection.execute(query)]
    return result


def load_memberships(
    connection: Connection, user_ids: Collection[int], group_ids: Collection[int]
) -> list[tuple[Any, dict[str, Any]]]:
    if not user_ids or not group_ids:
        return []
    result = []
    group_list = list(group_ids)
    for chunk in chunks(user_ids):
        query = select(
            memberships.c.user_id, memberships.c.group_id, *[memberships.c[f] for f in MEMBERSHIP_FIELDS]
        ).where(memberships.c.user_id.in_(chunk), memberships.c.group_id.in_(group_list))
        result += [
            ((row.user_id, row.group_id), {f: getattr(row, f) for f in MEMBERSHIP_FIELDS})
            for row in connection.execute(query)
        ]
    return result


def load_cohorts(
    connection: Connection, idnumbers: Collection[str], ids: Collection[int]
) -> list[tuple[str, dict[str, Any]]]:
    condition = or_(cohorts.c.idnumber.in_(list(idnumbers)), cohorts.c.id.in_(list(ids)))
    rows = connection.execute(
        select(cohorts.c.id, cohorts.c.idnumber, cohorts.c.name, cohorts.c.description).where(condition)
    )
    return [(row.idnumber, dict(id=row.id, name=row.name, description=row.description)) for row in rows]


def load_cohort_members(connection: Connection, cohort_ids: dict[int, str]) -> list[tuple[Any, dict[str, Any]]]:
    query = select(cohort_members.c.cohort_id, cohort_members.c.user_id).where(
        cohort_members.c.cohort_id.in_(list(cohort_ids))
    )
    return [((cohort_ids[c], u), {}) for c, u in connection.execute(query)]


def load_cohort_courses(connection: Connection, cohort_ids: dict[int, str]) -> list[tuple[Any, dict[str, Any]]]:
    query = select(cohort_courses.c.cohort_id, cohort_courses.c.group_id, cohort_courses.c.perfil).where(
        cohort_courses.c.cohort_id.in_(list(cohort_ids))
    )
    return [((cohort_ids[c], g), dict(perfil=p)) for c, g, p in connection.execute(query)]


def refresh_estado(connection: Connection, now: datetime, user_ids: Collection[int] | None = None) -> int:
    """estado := not suspended and endtime not passed; for these users, or every ended enrolment."""
    suspended = select(users.c.suspended).where(users.c.id == memberships.c.user_id).scalar_subquery()
    active = and_(suspended == false(), or_(memberships.c.endtime.is_(None), memberships.c.endtime > now))
    if user_ids is None:
        statement = (
            update(memberships)
            .where(memberships.c.estado.is_(True), memberships.c.endtime.is_not(None), memberships.c.endtime <= now)
            .values(estado=False)
        )
        return connection.execute(statement).rowcount
    count = 0
    for chunk in chunks(user_ids):
        for value, condition in ((True, active), (False, ~active)):
            statement = update(memberships).where(memberships.c.user_id.in_(chunk), condition).values(estado=value)
            count += connection.execute(statement).rowcount
    return count


class TableChanges(Protocol):
    """One table's planned changes (what `sync.snapshot.Rows.changes()` gives): rows keyed as
    the planners key them, only the changed fields in an update."""

    @property
    def inserts(self) -> Sequence[tuple[Hashable, Mapping[str, Any]]]: ...

    @property
    def updates(self) -> Sequence[tuple[Hashable, Mapping[str, Any]]]: ...

    @property
    def deletes(self) -> Sequence[Hashable]: ...


@dataclass(frozen=True)
class BatchChanges:
    """What one batch of sync lines changes. Keys: a user or group is its id, or ("new", its
    username or shortname) when this batch adds it; a cohort is its idnumber; units, memberships
    and cohort links are pairs of those."""

    users: TableChanges
    groups: TableChanges
    units: TableChanges
    memberships: TableChanges
    cohorts: TableChanges
    cohort_members: TableChanges
    cohort_courses: TableChanges
    cohort_ids: Mapping[str, int]  # idnumber -> id of the cohorts the batch loaded
    suspension_changed: Collection[Hashable]  # users whose memberships' estado is recomputed


def write_batch(connection: Connection, batch: BatchChanges, now: datetime) -> None:
    """Writes a batch in an order the foreign keys accept whatever the order of its lines:
    deletes children first (memberships, cohort links, units), then users and groups; then
    updates and inserts parents first (users, groups, cohorts), so that the children's rows
    can name the ids the new parents were just given."""
    cohort_id: dict[Hashable, int] = {idnumber: id_ for idnumber, id_ in batch.cohort_ids.items()}

    _delete_keys(connection, memberships, ("user_id", "group_id"), [_pair(k) for k in batch.memberships.deletes])
    _delete_keys(
        connection,
        cohort_members,
        ("cohort_id", "user_id"),
        [(cohort_id[c], u) for c, u in map(_pair, batch.cohort_members.deletes)],
    )
    _delete_keys(
        connection,
        cohort_courses,
        ("cohort_id", "group_id"),
        [(cohort_id[c], g) for c, g in map(_pair, batch.cohort_courses.deletes)],
    )
    _delete_keys(connection, units, ("group_id", "code"), [_pair(k) for k in batch.units.deletes])
    _delete_keys(connection, users, ("id",), [(k,) for k in batch.users.deletes])
    _delete_keys(connection, groups, ("id",), [(k,) for k in batch.groups.deletes])

    _update_rows(connection, users, ("id",), [((k,), f) for k, f in batch.users.updates])
    new_users = _insert_users(connection, [row for _, row in batch.users.inserts])
    _update_rows(connection, groups, ("id",), [((k,), f) for k, f in batch.groups.updates])
    new_groups = {row["shortname"]: _insert_group(connection, row) for _, row in batch.groups.inserts}
    _update_rows(connection, cohorts, ("idnumber",), [((k,), f) for k, f in batch.cohorts.updates])
    cohort_id.update(_insert_cohorts(connection, batch.cohorts.inserts, now).items())

    def user_id(key: Hashable) -> int:
        return _id(key, new_users)

    def group_id(key: Hashable) -> int:
        return _id(key, new_groups)

    _update_rows(connection, units, ("group_id", "code"), [(_pair(k), f) for k, f in batch.units.updates])
    _insert_units(connection, [(group_id(g), c, row) for (g, c), row in _paired(batch.units.inserts)])
    _update_rows(
        connection,
        memberships,
        ("user_id", "group_id"),
        [((user_id(u), group_id(g)), f) for (u, g), f in _paired(batch.memberships.updates)],
    )
    _insert_memberships(
        connection, [(user_id(u), group_id(g), row) for (u, g), row in _paired(batch.memberships.inserts)]
    )
    _insert_pairs(
        connection,
        cohort_members,
        ("cohort_id", "user_id"),
        [(cohort_id[c], user_id(u)) for (c, u), _ in _paired(batch.cohort_members.inserts)],
    )
    _update_rows(
        connection,
        cohort_courses,
        ("cohort_id", "group_id"),
        [((cohort_id[c], group_id(g)), f) for (c, g), f in _paired(batch.cohort_courses.updates)],
    )
    _insert_pairs(
        connection,
        cohort_courses,
        ("cohort_id", "group_id", "perfil"),
        [(cohort_id[c], group_id(g), row["perfil"]) for (c, g), row in _paired(batch.cohort_courses.inserts)],
    )
    if batch.suspension_changed:
        refresh_estado(connection, now, [user_id(k) for k in batch.suspension_changed])


def _id(key: Hashable, new_ids: Mapping[str, int]) -> int:
    """An existing user's or group's id, or the one just given to ("new", name)."""
    if isinstance(key, int):
        return key
    if isinstance(key, tuple) and len(key) == 2:
        return new_ids[key[1]]
    raise TypeError(f"not a user or group key: {key!r}")


def _pair(key: Hashable) -> tuple[Hashable, Hashable]:
    if isinstance(key, tuple) and len(key) == 2:
        return key[0], key[1]
    raise TypeError(f"not a pair key: {key!r}")


def _paired(
    changes: Sequence[tuple[Hashable, Mapping[str, Any]]],
) -> list[tuple[tuple[Hashable, Hashable], Mapping[str, Any]]]:
    return [(_pair(key), row) for key, row in changes]


def _delete_keys(
    connection: Connection, table: Table, columns: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
) -> None:
    if not keys:
        return
    statement = delete(table).where(and_(*[table.c[name] == bindparam(f"k_{name}") for name in columns]))
    connection.execute(statement, [{f"k_{n}": v for n, v in zip(columns, key, strict=True)} for key in keys])


def _update_rows(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    changes: Sequence[tuple[tuple[Any, ...], Mapping[str, Any]]],
) -> None:
    """Each change: (key values, changed fields); grouped by the set of fields changed."""
    by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, fields in changes:
        params = {f"k_{n}": v for n, v in zip(columns, key, strict=True)}
        params.update({f"v_{n}": v for n, v in fields.items()})
        by_fields.setdefault(tuple(sorted(fields)), []).append(params)
    for names, rows in by_fields.items():
        statement = (
            update(table)
            .where(and_(*[table.c[n] == bindparam(f"k_{n}") for n in columns]))
            .values({n: bindparam(f"v_{n}") for n in names})
        )
        connection.execute(statement, rows)


def _insert_users(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    if not rows:
        return {}
    bulk_insert(connection, users, USER_FIELDS, [tuple(row[f] for f in USER_FIELDS) for row in rows])
    return user_ids(connection, [row["username"] for row in rows])


def _insert_group(connection: Connection, row: Mapping[str, Any]) -> int:
    fields = {k: v for k, v in row.items() if k not in ("id", "shortname", "created_at")}
    return platform.add_group(connection, row["shortname"], row["created_at"], group_id=row["id"], **fields)


def _insert_units(connection: Connection, rows: Sequence[tuple[int, Hashable, Mapping[str, Any]]]) -> None:
    if rows:
        connection.execute(insert(units), [dict(group_id=g, code=c, **row) for g, c, row in rows])


def _insert_memberships(connection: Connection, rows: Sequence[tuple[int, int, Mapping[str, Any]]]) -> None:
    columns = ("user_id", "group_id", *MEMBERSHIP_FIELDS)
    bulk_insert(connection, memberships, columns, [(u, g, *[row[f] for f in MEMBERSHIP_FIELDS]) for u, g, row in rows])


def _insert_cohorts(
    connection: Connection, rows: Sequence[tuple[Hashable, Mapping[str, Any]]], now: datetime
) -> dict[str, int]:
    if not rows:
        return {}
    connection.execute(
        insert(cohorts),
        [dict(idnumber=k, name=row["name"], description=row["description"], created_at=now) for k, row in rows],
    )
    query = select(cohorts.c.idnumber, cohorts.c.id).where(cohorts.c.idnumber.in_([k for k, _ in rows]))
    return {idnumber: id_ for idnumber, id_ in connection.execute(query)}


def _insert_pairs(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    if rows:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def store_picture(connection: Connection, user_id: int, large: bytes, small: bytes, now: datetime) -> None:
    connection.execute(delete(user_pictures).where(user_pictures.c.user_id == user_id))
    connection.execute(insert(user_pictures).values(user_id=user_id, large_png=large, small_png=small, updated_at=now))


def picture_of(connection: Connection, user_id: int) -> tuple[bytes, bytes] | None:
    row = connection.execute(
        select(user_pictures.c.large_png, user_pictures.c.small_png).where(user_pictures.c.user_id == user_id)
    ).first()
    return None if row is None else (row[0], row[1])


def start_run(connection: Connection, kind: str, file_path: str, holder: str, now: datetime) -> int:
    statement = insert(sync_runs).values(kind=kind, file_path=file_path, state="running", holder=holder, started_at=now)
    run_id: int = connection.execute(statement.returning(sync_runs.c.id)).scalar_one()
    return run_id


def set_run_state(connection: Connection, run_id: int, state: str, now: datetime | None = None) -> None:
    values: dict[str, Any] = {"state": state}
    if now is not None:
        values["finished_at"] = now
    connection.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))


def unfinished_runs(connection: Connection, kind: str) -> list[tuple[int, str, str]]:
    """(id, file path, state) of this kind's runs that never finished: killed runners."""
    query = select(sync_runs.c.id, sync_runs.c.file_path, sync_runs.c.state).where(
        sync_runs.c.kind == kind, sync_runs.c.state.in_(("running", "applied"))
    )
    return [(row.id, row.file_path, row.state) for row in connection.execute(query.order_by(sync_runs.c.id))]


def claim_alarm(connection: Connection, lock_key: str, now: datetime) -> bool:
    """True the first time a stale lock (path and time) is seen: its one alarm."""
    if connection.scalar(select(sync_alarms.c.lock_key).where(sync_alarms.c.lock_key == lock_key)):
        return False
    connection.execute(insert(sync_alarms).values(lock_key=lock_key, sent_at=now))
    return True


def forget_alarm(connection: Connection, lock_key: str) -> None:
    connection.execute(delete(sync_alarms).where(sync_alarms.c.lock_key == lock_key))


def last_scheduled_runs(connection: Connection) -> dict[str, datetime]:
    return dict(connection.execute(select(sync_schedule.c.kind, sync_schedule.c.last_run_at)).all())


def mark_scheduled_run(connection: Connection, kind: str, now: datetime) -> None:
    if (
        connection.execute(update(sync_schedule).where(sync_schedule.c.kind == kind).values(last_run_at=now)).rowcount
        == 0
    ):
        connection.execute(insert(sync_schedule).values(kind=kind, last_run_at=now))
