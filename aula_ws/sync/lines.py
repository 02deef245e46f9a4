"""What planning a sync line needs and gives: the context, and the line's actions.

A planner validates everything a line needs before it changes the snapshot,
so a refused line changes nothing (a line is applied whole or not at all).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aula_ws.domain.csv_rows import RowError
from aula_ws.domain.sync_rows import local_day, membership_active
from aula_ws.sync.snapshot import Key, Row, Snapshot

# counters an action adds to
ADDED, UPDATED, REMOVED, UNCHANGED = "added", "updated", "removed", "unchanged"
Action = tuple[str, str]  # (counter, message)


@dataclass(frozen=True)
class PlanContext:
    now: datetime  # naive UTC
    zone: ZoneInfo
    user_identity: str = "username"
    group_identity: str = "shortname"
    # (password, the stored hash or None) -> the hash to store (the stored one if it still matches)
    hash_password: Callable[[str, str | None], str] = lambda password, old: password


def existing_user(snap: Snapshot, ctx: PlanContext, value: str) -> Key:
    key = snap.find_user(ctx.user_identity, value)
    if key is None:
        raise RowError(f'no user with {ctx.user_identity} "{value}"')
    return key


def existing_group(snap: Snapshot, identity: str, value: str) -> Key:
    key = snap.find_group(identity, value)
    if key is None:
        raise RowError(f'no course with {identity} "{value}"')
    return key


def known_perfil(snap: Snapshot, perfil: str) -> str:
    if perfil not in snap.profiles:
        raise RowError(f'role "{perfil}" is neither a perfil of the platform nor a known Moodle role')
    return perfil


def group_label(snap: Snapshot, group_key: Key) -> str:
    row = snap.groups.get(group_key)
    return row["shortname"] if row else str(group_key)


def user_label(snap: Snapshot, user_key: Key) -> str:
    row = snap.users.get(user_key)
    return row["username"] if row else str(user_key)


def new_membership(
    snap: Snapshot,
    ctx: PlanContext,
    user_key: Key,
    perfil: str,
    endtime: datetime | None = None,
    cohort_id: int | None = None,
    since: datetime | None = None,
) -> Row:
    user = snap.users.get(user_key)
    assert user is not None
    return dict(
        perfil=perfil,
        administrador_grupo=False,
        responsable_grupo=False,
        estado=membership_active(user["suspended"], endtime, ctx.now),
        fecha_alta=local_day(since or ctx.now, ctx.zone),
        endtime=endtime,
        cohort_id=cohort_id,
    )
