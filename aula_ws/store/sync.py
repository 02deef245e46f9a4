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
    tuple_,
    update,
)

from aula_ws.store import platform
from aula_ws.store.bulk import bulk_insert, chunks
from aula_ws.store.progress import refresh as refresh_progress
from aula_ws.store.tables import (
    cohort_courses,
    cohort_members,
    cohorts,
    course_group_members,
    course_groups,
    groups,
    memberships,
    profiles,
    sync_alarms,
    sync_runs,
    sync_schedule,
    units,
    user_pictures,
    user_profile_fields,
    users,
)
from aula_ws.store.users import user_ids

USER_FIELDS = (
    "username",
    "firstname",
    "lastname",
    "email",
    "idnumber",
    "suspended",
    "password_hash",
    "auth",
    "mnethost",
)
COHORT_FIELDS = ("id", "idnumber", "name", "description")
BINDING_FIELDS = ("perfil", "enrolstart", "enrolend", "makegroup")
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
    wanted = {
        name: list(chunks({v for v in values if v not in (None, "")} if name != "id" else _whole(values)))
        for name, values in by.items()
    }
    columns = (users.c.id, *[users.c[f] for f in USER_FIELDS])
    for round_ in range(max((len(c) for c in wanted.values()), default=0)):  # one query a round, fields OR-ed
        conditions = [users.c[name].in_(c[round_]) for name, c in wanted.items() if round_ < len(c)]
        for row in connection.execute(select(*columns).where(or_(*conditions))):
            if row[0] not in found:
                found[row[0]] = dict(zip(USER_FIELDS, row[1:], strict=True))
    return list(found.items())


def _whole(values: Collection[Any]) -> set[int]:
    """The values that are ids (ASCII digits: str.isdigit() also takes "١٢")."""
    return {int(v) for v in values if str(v).isascii() and str(v).isdigit()}


def load_groups(connection: Connection, by: Mapping[str, Collection[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Courses whose field (id, shortname or idnumber) is among the values given for it, keyed by id."""
    return _load_by(connection, groups, GROUP_FIELDS, by)


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


def load_cohorts(connection: Connection, by: Mapping[str, Collection[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Cohorts whose field (id, idnumber or name) is among the values given for it, keyed by id."""
    return _load_by(connection, cohorts, COHORT_FIELDS, by)


def _load_by(
    connection: Connection, table: Table, fields: Sequence[str], by: Mapping[str, Collection[Any]]
) -> list[tuple[int, dict[str, Any]]]:
    """Rows of `table` (its `fields`, which include id) whose field is among the values given for it."""
    found: dict[int, dict[str, Any]] = {}
    for field_name, values in by.items():
        wanted = _whole(values) if field_name == "id" else set(values)
        for chunk in chunks(wanted):
            for row in connection.execute(select(*[table.c[f] for f in fields]).where(table.c[field_name].in_(chunk))):
                found[row.id] = {f: getattr(row, f) for f in fields}
    return list(found.items())


def load_cohort_members(connection: Connection, cohort_ids: Collection[int]) -> list[tuple[Any, dict[str, Any]]]:
    query = select(cohort_members.c.cohort_id, cohort_members.c.user_id).where(
        cohort_members.c.cohort_id.in_(list(cohort_ids))
    )
    return [((c, u), {}) for c, u in connection.execute(query)]


def load_cohort_courses(connection: Connection, cohort_ids: Collection[int]) -> list[tuple[Any, dict[str, Any]]]:
    query = select(
        cohort_courses.c.cohort_id, cohort_courses.c.group_id, *[cohort_courses.c[f] for f in BINDING_FIELDS]
    ).where(cohort_courses.c.cohort_id.in_(list(cohort_ids)))
    return [
        ((row.cohort_id, row.group_id), {f: getattr(row, f) for f in BINDING_FIELDS})
        for row in connection.execute(query)
    ]


def load_profile_fields(connection: Connection, user_ids: Collection[int]) -> list[tuple[Any, dict[str, Any]]]:
    result = []
    for chunk in chunks(user_ids):
        query = select(user_profile_fields).where(user_profile_fields.c.user_id.in_(chunk))
        result += [((row.user_id, row.name), dict(value=row.value)) for row in connection.execute(query)]
    return result


def load_course_groups(
    connection: Connection, group_ids: Collection[int], user_ids: Collection[int]
) -> tuple[list[tuple[Any, dict[str, Any]]], list[tuple[Any, dict[str, Any]]]]:
    """The groups inside these courses ((course id, name)) and these users' places in them."""
    groups_found: list[tuple[Any, dict[str, Any]]] = []
    members_found: list[tuple[Any, dict[str, Any]]] = []
    for chunk in chunks(group_ids):
        query = select(course_groups.c.id, course_groups.c.group_id, course_groups.c.name).where(
            course_groups.c.group_id.in_(chunk)
        )
        rows = connection.execute(query).all()
        groups_found += [((row.group_id, row.name), {}) for row in rows]
        by_id = {row.id: (row.group_id, row.name) for row in rows}
        for users_chunk in chunks(user_ids):
            member_query = select(course_group_members).where(
                course_group_members.c.course_group_id.in_(list(by_id)),
                course_group_members.c.user_id.in_(users_chunk),
            )
            members_found += [
                ((by_id[row.course_group_id], row.user_id), dict(protected=row.protected))
                for row in connection.execute(member_query)
            ]
    return groups_found, members_found


def groups_of_memberships(
    connection: Connection, pairs: Collection[tuple[int, int]] | None = None
) -> dict[tuple[int, int], list[str]]:
    """(course id, user id) -> the names of the groups inside that course the user is in, sorted;
    for these pairs, or every membership (None). The ETL's special_academics lists them."""
    query = (
        select(course_groups.c.group_id, course_group_members.c.user_id, course_groups.c.name)
        .join(course_groups, course_groups.c.id == course_group_members.c.course_group_id)
        .order_by(course_groups.c.group_id, course_group_members.c.user_id, course_groups.c.name)
    )
    found: dict[tuple[int, int], list[str]] = {}
    for chunk in [None] if pairs is None else chunks(list(pairs)):
        chosen = (
            query
            if chunk is None
            else query.where(tuple_(course_groups.c.group_id, course_group_members.c.user_id).in_(chunk))
        )
        for group_id, user_id, name in connection.execute(chosen):
            found.setdefault((group_id, user_id), []).append(name)
    return found


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
    """What one batch of sync lines changes. Keys: a user, group or cohort is its id, or ("new",
    its username, shortname or a number) when this batch adds it; units, memberships, cohort links
    and profile fields are pairs of those; a group inside a course is (course key, name), its
    members ((course key, name), user key)."""

    users: TableChanges
    groups: TableChanges
    units: TableChanges
    memberships: TableChanges
    cohorts: TableChanges
    cohort_members: TableChanges
    cohort_courses: TableChanges
    profile_fields: TableChanges
    course_groups: TableChanges
    course_group_members: TableChanges
    suspension_changed: Collection[Hashable]  # users whose memberships' estado is recomputed


def write_batch(connection: Connection, batch: BatchChanges, now: datetime) -> None:
    """Writes a batch in an order the foreign keys accept whatever the order of its lines:
    deletes children first (memberships, group places, cohort links, units), then users, groups
    and cohorts; then updates and inserts parents first (users, groups, cohorts, groups inside
    courses), so that the children's rows can name the ids the new parents were just given."""
    course_group_id = _course_group_ids(
        connection,
        [_pair(k) for k in batch.course_groups.deletes]
        + [_pair(_pair(k)[0]) for k in batch.course_group_members.deletes]
        + [_pair(_pair(k)[0]) for k, _ in batch.course_group_members.updates],
    )
    _delete_keys(connection, memberships, ("user_id", "group_id"), [_pair(k) for k in batch.memberships.deletes])
    _delete_keys(
        connection,
        course_group_members,
        ("course_group_id", "user_id"),
        [(course_group_id[_pair(g)], u) for g, u in map(_pair, batch.course_group_members.deletes)],
    )
    _delete_keys(
        connection, course_groups, ("id",), [(course_group_id[_pair(k)],) for k in batch.course_groups.deletes]
    )
    _delete_keys(connection, cohort_members, ("cohort_id", "user_id"), [_pair(k) for k in batch.cohort_members.deletes])
    _delete_keys(
        connection, cohort_courses, ("cohort_id", "group_id"), [_pair(k) for k in batch.cohort_courses.deletes]
    )
    _delete_keys(connection, user_profile_fields, ("user_id", "name"), [_pair(k) for k in batch.profile_fields.deletes])
    _delete_keys(connection, units, ("group_id", "code"), [_pair(k) for k in batch.units.deletes])
    if batch.units.deletes:  # their sessions went with them (cascade): the members' counts change
        refresh_progress(connection, group_ids={_group_of(k) for k in batch.units.deletes})
    _delete_keys(connection, cohorts, ("id",), [(k,) for k in batch.cohorts.deletes])
    _delete_keys(connection, users, ("id",), [(k,) for k in batch.users.deletes])
    _delete_keys(connection, groups, ("id",), [(k,) for k in batch.groups.deletes])

    _update_rows(connection, users, ("id",), [((k,), f) for k, f in batch.users.updates])
    new_users = _insert_users(connection, [row for _, row in batch.users.inserts])
    _update_rows(connection, groups, ("id",), [((k,), f) for k, f in batch.groups.updates])
    new_groups = {row["shortname"]: _insert_group(connection, row) for _, row in batch.groups.inserts}
    _update_rows(
        connection,
        cohorts,
        ("id",),
        [((k,), {n: v for n, v in f.items() if n != "id"}) for k, f in batch.cohorts.updates],
    )
    new_cohorts = {_pair(k)[1]: _insert_cohort(connection, row, now) for k, row in batch.cohorts.inserts}

    def user_id(key: Hashable) -> int:
        return _id(key, new_users)

    def group_id(key: Hashable) -> int:
        return _id(key, new_groups)

    def cohort_id(key: Hashable) -> int:
        return _id(key, new_cohorts)

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
        [(cohort_id(c), user_id(u)) for (c, u), _ in _paired(batch.cohort_members.inserts)],
    )
    _update_rows(
        connection,
        cohort_courses,
        ("cohort_id", "group_id"),
        [((cohort_id(c), group_id(g)), f) for (c, g), f in _paired(batch.cohort_courses.updates)],
    )
    _insert_pairs(
        connection,
        cohort_courses,
        ("cohort_id", "group_id", *BINDING_FIELDS),
        [
            (cohort_id(c), group_id(g), *[row[f] for f in BINDING_FIELDS])
            for (c, g), row in _paired(batch.cohort_courses.inserts)
        ],
    )
    _update_rows(
        connection,
        user_profile_fields,
        ("user_id", "name"),
        [((user_id(u), n), f) for (u, n), f in _paired(batch.profile_fields.updates)],
    )
    _insert_pairs(
        connection,
        user_profile_fields,
        ("user_id", "name", "value"),
        [(user_id(u), n, row["value"]) for (u, n), row in _paired(batch.profile_fields.inserts)],
    )
    _insert_pairs(
        connection,
        course_groups,
        ("group_id", "name", "created_at"),
        [(group_id(g), n, now) for (g, n), _ in _paired(batch.course_groups.inserts)],
    )
    course_group_id.update(
        _course_group_ids(
            connection,
            [(group_id(g), n) for (g, n), _ in _paired(batch.course_groups.inserts)]
            + [(group_id(g), n) for g, n in (_pair(_pair(k)[0]) for k, _ in batch.course_group_members.inserts)],
        )
    )

    def place_id(key: Hashable) -> int:
        course, name = _pair(key)
        return course_group_id[(group_id(course), name)]

    _update_rows(
        connection,
        course_group_members,
        ("course_group_id", "user_id"),
        [((place_id(g), user_id(u)), f) for (g, u), f in _paired(batch.course_group_members.updates)],
    )
    _insert_pairs(
        connection,
        course_group_members,
        ("course_group_id", "user_id", "protected"),
        [(place_id(g), user_id(u), row["protected"]) for (g, u), row in _paired(batch.course_group_members.inserts)],
    )
    if batch.suspension_changed:
        refresh_estado(connection, now, [user_id(k) for k in batch.suspension_changed])


def _course_group_ids(connection: Connection, keys: Sequence[tuple[Any, Any]]) -> dict[tuple[Any, Any], int]:
    """(course id, name) -> the id of that group inside the course, for the keys whose course exists."""
    wanted = {(g, n) for g, n in keys if isinstance(g, int)}
    found: dict[tuple[Any, Any], int] = {}
    for chunk in chunks(wanted):
        query = select(course_groups.c.id, course_groups.c.group_id, course_groups.c.name).where(
            tuple_(course_groups.c.group_id, course_groups.c.name).in_(chunk)
        )
        found.update({(g, n): i for i, g, n in connection.execute(query)})
    return found


def _id(key: Hashable, new_ids: Mapping[Any, int]) -> int:
    """An existing user's, group's or cohort's id, or the one just given to ("new", name)."""
    if isinstance(key, int):
        return key
    if isinstance(key, tuple) and len(key) == 2:
        return new_ids[key[1]]
    raise TypeError(f"not a user or group key: {key!r}")


def _pair(key: Hashable) -> tuple[Hashable, Hashable]:
    if isinstance(key, tuple) and len(key) == 2:
        return key[0], key[1]
    raise TypeError(f"not a pair key: {key!r}")


def _group_of(unit_key: Hashable) -> int:
    group_id = _pair(unit_key)[0]
    if not isinstance(group_id, int):
        raise TypeError(f"not a unit key: {unit_key!r}")
    return group_id


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


def _insert_cohort(connection: Connection, row: Mapping[str, Any], now: datetime) -> int:
    values = {f: row[f] for f in COHORT_FIELDS if f != "id"}
    statement = insert(cohorts).values(created_at=now, **values).returning(cohorts.c.id)
    cohort_id: int = connection.execute(statement).scalar_one()
    return cohort_id


def _insert_pairs(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    if rows:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def user_ids_by(connection: Connection, field_name: str, value: str) -> list[int]:
    """The ids of the users whose `field_name` (id, idnumber, username or email) is `value`."""
    if field_name == "id":
        if not value.isascii() or not value.isdigit():
            return []
        wanted: object = int(value)
    else:
        wanted = value
    query = select(users.c.id).where(users.c[field_name] == wanted).limit(2)
    return list(connection.scalars(query))


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
