"""MNET: our keys, peers, seen envelopes, and the rows use_stats reads."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aula_ws.store.tables import (
    activity_log,
    groups,
    lesson_sessions,
    memberships,
    mnet_keys,
    mnet_peer_certificates,
    mnet_peer_services,
    mnet_peers,
    mnet_seen_envelopes,
    units,
)

# --------------------------------------------------------------------------- keys and peers


@dataclass(frozen=True)
class KeyRecord:
    generation: int
    private_key_pem: str
    certificate_pem: str
    created_at: datetime


@dataclass(frozen=True)
class PeerRecord:
    wwwroot: str
    certificate_pem: str
    cipher: str
    trusted_ips: str
    created_at: datetime


def keys_newest_first(connection: Connection) -> list[KeyRecord]:
    rows = connection.execute(
        select(
            mnet_keys.c.generation,
            mnet_keys.c.private_key_pem,
            mnet_keys.c.certificate_pem,
            mnet_keys.c.created_at,
        ).order_by(mnet_keys.c.generation.desc())
    )
    return [KeyRecord(*row) for row in rows]


def add_key(connection: Connection, key: KeyRecord) -> None:
    """IntegrityError when another process stored that generation first."""
    connection.execute(
        insert(mnet_keys).values(
            generation=key.generation,
            private_key_pem=key.private_key_pem,
            certificate_pem=key.certificate_pem,
            created_at=key.created_at,
        )
    )


def forget_keys_before(connection: Connection, generation: int) -> None:
    connection.execute(delete(mnet_keys).where(mnet_keys.c.generation < generation))


_PEER_COLUMNS = (
    mnet_peers.c.wwwroot,
    mnet_peers.c.certificate_pem,
    mnet_peers.c.cipher,
    mnet_peers.c.trusted_ips,
    mnet_peers.c.created_at,
)


def find_peer(connection: Connection, wwwroot: str) -> PeerRecord | None:
    row = connection.execute(select(*_PEER_COLUMNS).where(mnet_peers.c.wwwroot == wwwroot)).first()
    return None if row is None else PeerRecord(*row)


def all_peers(connection: Connection) -> list[PeerRecord]:
    return [PeerRecord(*row) for row in connection.execute(select(*_PEER_COLUMNS).order_by(mnet_peers.c.wwwroot))]


def save_peer(connection: Connection, peer: PeerRecord) -> bool:
    """Insert or replace the peer with that root URL; True when it was new."""
    values = dict(certificate_pem=peer.certificate_pem, cipher=peer.cipher, trusted_ips=peer.trusted_ips)
    updated = connection.execute(
        update(mnet_peers).where(mnet_peers.c.wwwroot == peer.wwwroot).values(**values)
    ).rowcount
    if updated:
        return False
    connection.execute(insert(mnet_peers).values(wwwroot=peer.wwwroot, created_at=peer.created_at, **values))
    return True


def replace_peer_certificate(connection: Connection, wwwroot: str, certificate_pem: str, now: datetime) -> None:
    """The peer's certificate becomes `certificate_pem`; the one it replaces goes to the history."""
    row = connection.execute(
        select(mnet_peers.c.id, mnet_peers.c.certificate_pem).where(mnet_peers.c.wwwroot == wwwroot)
    ).first()
    if row is None or row.certificate_pem == certificate_pem:
        return
    connection.execute(
        insert(mnet_peer_certificates).values(peer_id=row.id, certificate_pem=row.certificate_pem, replaced_at=now)
    )
    connection.execute(update(mnet_peers).where(mnet_peers.c.id == row.id).values(certificate_pem=certificate_pem))


def peer_certificate_history(connection: Connection, wwwroot: str) -> list[str]:
    return list(
        connection.scalars(
            select(mnet_peer_certificates.c.certificate_pem)
            .join(mnet_peers, mnet_peers.c.id == mnet_peer_certificates.c.peer_id)
            .where(mnet_peers.c.wwwroot == wwwroot)
            .order_by(mnet_peer_certificates.c.replaced_at.desc(), mnet_peer_certificates.c.id.desc())
        )
    )


def peer_services(connection: Connection, wwwroot: str) -> dict[str, tuple[bool, bool]]:
    """Per service: (we publish it to the peer, we subscribe to it on the peer)."""
    rows = connection.execute(
        select(mnet_peer_services.c.service, mnet_peer_services.c.publish, mnet_peer_services.c.subscribe)
        .join(mnet_peers, mnet_peers.c.id == mnet_peer_services.c.peer_id)
        .where(mnet_peers.c.wwwroot == wwwroot)
    )
    return {service: (bool(publish), bool(subscribe)) for service, publish, subscribe in rows}


def set_peer_service(connection: Connection, wwwroot: str, service: str, publish: bool, subscribe: bool) -> None:
    peer_id = connection.scalar(select(mnet_peers.c.id).where(mnet_peers.c.wwwroot == wwwroot))
    connection.execute(
        delete(mnet_peer_services).where(
            mnet_peer_services.c.peer_id == peer_id, mnet_peer_services.c.service == service
        )
    )
    connection.execute(
        insert(mnet_peer_services).values(peer_id=peer_id, service=service, publish=publish, subscribe=subscribe)
    )


def remove_peer(connection: Connection, wwwroot: str) -> bool:
    return bool(connection.execute(delete(mnet_peers).where(mnet_peers.c.wwwroot == wwwroot)).rowcount)


def remember_envelope(connection: Connection, fingerprint: str, seen_at: datetime, forget_before: datetime) -> bool:
    """Record a signed envelope; False if it was already recorded (a replay)."""
    connection.execute(delete(mnet_seen_envelopes).where(mnet_seen_envelopes.c.seen_at < forget_before))
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(mnet_seen_envelopes)
        .values(fingerprint=fingerprint, seen_at=seen_at)
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(mnet_seen_envelopes.c.fingerprint)
    )
    return connection.execute(statement).first() is not None


# --------------------------------------------------------------------------- use_stats reads


@dataclass(frozen=True)
class CourseRecord:
    id: int
    fullname: str
    shortname: str
    idnumber: str


@dataclass(frozen=True)
class UnitRecord:
    id: int
    group_id: int
    name: str
    type: str
    code: str
    position: int


def overseen_groups(connection: Connection, overseer_id: int, member_id: int, perfiles: Collection[str]) -> set[int]:
    """Groups where `overseer_id` is an active member with one of `perfiles` and `member_id` is a member."""
    overseer, member = memberships.alias("overseer"), memberships.alias("member")
    return set(
        connection.scalars(
            select(overseer.c.group_id)
            .join(member, and_(member.c.group_id == overseer.c.group_id, member.c.user_id == member_id))
            .where(
                overseer.c.user_id == overseer_id,
                overseer.c.perfil.in_(list(perfiles)),
                overseer.c.estado.is_(True),
            )
        )
    )


def activity_rows(
    connection: Connection, user_id: int, since: datetime, until: datetime
) -> list[Row[datetime, int, int | None, str]]:
    """The user's activity from `since` to `until` in time order, as rows with the attributes
    of domain.elapsed's events (time, course, unit, action): the engine reads them as they are."""
    return list(
        connection.execute(
            select(
                activity_log.c.time,
                activity_log.c.group_id.label("course"),
                activity_log.c.unit_id.label("unit"),
                activity_log.c.action,
            )
            .where(
                activity_log.c.user_id == user_id,
                activity_log.c.time >= since,
                activity_log.c.time <= until,
            )
            .order_by(activity_log.c.time)
        ).all()
    )


def recorded_time_rows(
    connection: Connection, user_id: int, since: datetime, until: datetime
) -> list[Row[int, int, Any]]:
    """(group_id, unit_id, seconds) of the user's imported lesson time, sessions dated in the window."""
    return list(
        connection.execute(
            select(units.c.group_id, units.c.id, func.sum(lesson_sessions.c.time_spent))
            .join(units, units.c.id == lesson_sessions.c.unit_id)
            .where(
                lesson_sessions.c.user_id == user_id,
                lesson_sessions.c.time_spent > 0,
                lesson_sessions.c.status_date >= since,
                lesson_sessions.c.status_date <= until,
            )
            .group_by(units.c.group_id, units.c.id)
        )
    )


_COURSE_COLUMNS = (groups.c.id, groups.c.fullname, groups.c.shortname, groups.c.idnumber)


def courses_by_id(connection: Connection, ids: Collection[int]) -> dict[int, CourseRecord]:
    if not ids:
        return {}
    rows = connection.execute(select(*_COURSE_COLUMNS).where(groups.c.id.in_(list(ids))))
    return {row.id: CourseRecord(*row) for row in rows}


def units_by_id(connection: Connection, ids: Collection[int]) -> dict[int, UnitRecord]:
    if not ids:
        return {}
    rows = connection.execute(
        select(units.c.id, units.c.group_id, units.c.name, units.c.type, units.c.code, units.c.position).where(
            units.c.id.in_(list(ids))
        )
    )
    return {row.id: UnitRecord(*row) for row in rows}


def courses_where(connection: Connection, field: str, value: str | int) -> list[CourseRecord]:
    column = {"id": groups.c.id, "shortname": groups.c.shortname, "idnumber": groups.c.idnumber}[field]
    return [CourseRecord(*row) for row in connection.execute(select(*_COURSE_COLUMNS).where(column == value))]


def member_courses(connection: Connection, user_id: int) -> list[CourseRecord]:
    rows = connection.execute(
        select(*_COURSE_COLUMNS)
        .join(memberships, memberships.c.group_id == groups.c.id)
        .where(memberships.c.user_id == user_id)
    )
    return [CourseRecord(*row) for row in rows]


def best_scores(connection: Connection, user_id: int, group_ids: Collection[int]) -> dict[int, list[float]]:
    """Per group, the user's best score of each unit that has one."""
    if not group_ids:
        return {}
    rows = connection.execute(
        select(units.c.group_id, func.max(lesson_sessions.c.score))
        .join(units, units.c.id == lesson_sessions.c.unit_id)
        .where(
            lesson_sessions.c.user_id == user_id,
            lesson_sessions.c.score.is_not(None),
            units.c.group_id.in_(list(group_ids)),
        )
        .group_by(units.c.group_id, units.c.id)
    )
    scores: dict[int, list[float]] = {}
    for group_id, best in rows:
        scores.setdefault(group_id, []).append(float(best))
    return scores
