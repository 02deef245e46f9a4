"""What planning a sync line needs and gives: the context, and the line's actions.

A planner validates everything a line needs before it changes the snapshot,
so a refused line changes nothing (a line is applied whole or not at all).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aula_ws.config_sync import SyncSettings
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
    # tool_sync's settings: the identities per file kind, and what each kind may change
    options: SyncSettings = SyncSettings()
    # (password, the stored hash or None) -> the hash to store (the stored one if it still matches)
    hash_password: Callable[[str, str | None], str] = lambda password, old: password


def existing_user(snap: Snapshot, identity: str, value: str) -> Key:
    key = snap.find_user(identity, value)
    if key is None:
        raise RowError(f'no user with {identity} "{value}"')
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


def join_course_group(
    snap: Snapshot, user_key: Key, group_key: Key, name: str, create: bool, protected: bool = False
) -> Action:
    """The user joins the course's group `name` (created if missing and `create`); a user
    without a role in the course joins nothing. No outcome fails the line (tool_sync)."""
    course, who = group_label(snap, group_key), user_label(snap, user_key)
    what = f'group "{name}" of "{course}"'
    if snap.memberships.get((user_key, group_key)) is None:
        return (UNCHANGED, f'"{who}" has no role in "{course}": not added to {what}')
    created = ""
    if snap.course_groups.get((group_key, name)) is None:
        if not create:
            return (UNCHANGED, f"{what} not known, cannot be created")
        snap.course_groups.put((group_key, name), {})
        created = " (created)"
    key = ((group_key, name), user_key)
    if snap.course_group_members.get(key) is not None:
        return (UNCHANGED, f'"{who}" already in {what}')
    snap.join_place(key, dict(protected=protected))
    return (ADDED, f'"{who}" added to {what}{created}')


def leave_course_groups(
    snap: Snapshot, user_key: Key, group_key: Key, names: list[str] | None = None, protected_only: bool = False
) -> list[Action]:
    """The user leaves the course's groups `names` (None: all of them); `protected_only`
    (enrols_protectgroups): only the memberships the sync made."""
    who, course = user_label(snap, user_key), group_label(snap, group_key)
    joined = snap.places_of(group_key, user_key)
    actions: list[Action] = []
    for name in names if names is not None else sorted(joined):
        key = joined.get(name)
        row = snap.course_group_members.get(key) if key is not None else None
        if key is None or row is None or (protected_only and not row.get("protected")):
            if names is not None:
                actions.append((UNCHANGED, f'"{who}" not removed from group "{name}" of "{course}" (not a member)'))
            continue
        snap.course_group_members.delete(key)
        actions.append((REMOVED, f'"{who}" removed from group "{name}" of "{course}"'))
    return actions
