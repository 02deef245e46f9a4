"""Planning users, enrolments, cohorts and cohort bindings (pure, over a Snapshot).

Users: created, updated (an empty optional cell keeps the stored value) or
deleted (`deleted` = 1); `course<n>`/`role<n>` enrol on the fly; `cohort` adds
the user to that cohort (created if missing). Enrolments: `add` enrols or
updates, `shift` replaces the perfil, `del` removes. A membership's `estado`
is true unless the user is suspended or its `endtime` has passed. Members of
a cohort bound to a course are enrolled in it; leaving the cohort (or the
binding going) removes the enrolments the binding made, never others.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from aula_ws.domain import sync_rows as r
from aula_ws.domain.contract_params import ANONYMOUS_LOGIN
from aula_ws.domain.csv_rows import Columns, RowError, required
from aula_ws.sync.lines import (
    ADDED,
    REMOVED,
    UNCHANGED,
    UPDATED,
    Action,
    PlanContext,
    existing_group,
    existing_user,
    group_label,
    known_perfil,
    new_membership,
    user_label,
)
from aula_ws.sync.snapshot import Key, Snapshot


@dataclass(frozen=True, slots=True)
class UserLine:
    identity: str
    username: str
    firstname: str
    lastname: str
    idnumber: str | None
    email: str | None
    password: str | None
    suspended: bool | None
    deleted: bool
    cohort: str | None
    courses: tuple[tuple[str, str], ...]  # (course, role)
    mnethost: str | None = None  # the MNET peer the user comes from ("": local; None: column absent)


def read_user(fields: list[str], header: Columns, ctx: PlanContext) -> UserLine:
    v = partial(header.value, fields)
    deleted = bool(r.flag(v("deleted"), "deleted"))
    identity = required(v(ctx.user_identity), ctx.user_identity)
    username = v("username")
    if not deleted or username:
        r.login(username)
    courses = tuple((v(f"course{n}"), v(f"role{n}") or r.DEFAULT_ROLE) for n in header.course_slots if v(f"course{n}"))
    return UserLine(
        identity=identity,
        username=username,
        firstname=r.text(v("firstname") if deleted else required(v("firstname"), "firstname"), "firstname", 100),
        lastname=r.text(v("lastname") if deleted else required(v("lastname"), "lastname"), "lastname", 100),
        idnumber=r.text(v("idnumber"), "idnumber", 255) or None,
        email=r.text(v("email"), "email", 255) or None,
        password=v("password") or None,
        suspended=r.flag(v("suspended"), "suspended"),
        deleted=deleted,
        cohort=r.text(v("cohort"), "cohort", 100) or None,
        courses=courses,
        mnethost=_home(v("mnethost") or v("wwwroot")) if header.has("mnethost") or header.has("wwwroot") else None,
    )


def _home(text: str) -> str:
    """A user's home (MNET): a peer's root URL, or "" for a local user."""
    root = r.text(text, "mnethost", 255).strip().rstrip("/")
    if root and not (root.startswith(("http://", "https://")) and " " not in root):
        raise RowError(f'mnethost "{root}" is not a root URL (such as https://moodle.example.org)')
    return root


def plan_user(line: UserLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    key = snap.find_user(ctx.user_identity, line.identity)
    if line.deleted:
        if key is None:
            raise RowError(f'no user with {ctx.user_identity} "{line.identity}" to delete')
        label = user_label(snap, key)
        _not_anonymous(label)
        snap.delete_user(key)
        return [(REMOVED, f'user "{label}" deleted')]
    targets = [
        (existing_group(snap, ctx.group_identity, course), known_perfil(snap, r.perfil(role, "role")))
        for course, role in line.courses
    ]
    holder = snap.find_user("username", line.username)
    if holder is not None and holder != key:
        raise RowError(f'username "{line.username}" belongs to another user')
    before = snap.users.get(key) if key is not None else None
    if before is not None:
        _not_anonymous(before["username"])
    values: dict[str, object] = dict(username=line.username, firstname=line.firstname, lastname=line.lastname)
    for name in ("idnumber", "email", "suspended"):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    if line.mnethost is not None:
        values["mnethost"] = line.mnethost or None
    if line.password is not None:
        values["password_hash"] = ctx.hash_password(line.password, before.get("password_hash") if before else None)
    actions: list[Action]
    if key is None or before is None:
        key = ("new", line.username)
        snap.put_user(
            key, dict(dict(email="", idnumber="", suspended=False, password_hash=None, mnethost=None), **values)
        )
        actions = [(ADDED, f'user "{line.username}" created{_masked(line)}')]
    elif any(before.get(name) != value for name, value in values.items()):
        if "suspended" in values and values["suspended"] != before["suspended"]:
            snap.suspension_changed.add(key)
        snap.put_user(key, {**before, **values})
        actions = [(UPDATED, f'user "{line.username}" updated{_masked(line)}')]
    else:
        actions = [(UNCHANGED, f'user "{line.username}" unchanged')]
    for group_key, perfil in targets:
        actions.append(_enrol_on_the_fly(snap, ctx, key, group_key, perfil))
    if line.cohort:
        actions.extend(add_to_cohort(snap, ctx, line.cohort, key, create=True))
    return actions


def _masked(line: UserLine) -> str:
    return " (password ********)" if line.password is not None else ""


def _not_anonymous(username: str) -> None:
    if username == ANONYMOUS_LOGIN:
        raise RowError(f"{ANONYMOUS_LOGIN} is the platform's own guest user and cannot be changed")


def _enrol_on_the_fly(snap: Snapshot, ctx: PlanContext, user_key: Key, group_key: Key, perfil: str) -> Action:
    course = group_label(snap, group_key)
    if snap.memberships.get((user_key, group_key)) is not None:
        return (UNCHANGED, f'already enrolled in "{course}"')
    snap.memberships.put((user_key, group_key), new_membership(snap, ctx, user_key, perfil))
    return (ADDED, f'enrolled in "{course}" as {perfil}')


@dataclass(frozen=True, slots=True)
class EnrolmentLine:
    cmd: str
    course: str
    user: str
    role: str
    starttime: datetime | None
    endtime: datetime | None
    administrador: bool | None
    responsable: bool | None


def read_enrolment(fields: list[str], header: Columns, ctx: PlanContext) -> EnrolmentLine:
    v = partial(header.value, fields)
    cmd = r.command(v("cmd"), ("add", "del", "shift"))
    return EnrolmentLine(
        cmd=cmd,
        course=required(v("cid"), "cid"),
        user=required(v("uid"), "uid"),
        role=r.perfil(v("rolename")) if cmd != "del" or v("rolename") else "",
        starttime=r.moment(v("starttime"), "starttime", ctx.zone),
        endtime=r.moment(v("endtime"), "endtime", ctx.zone),
        administrador=r.flag(v("administrador"), "administrador"),
        responsable=r.flag(v("responsable"), "responsable"),
    )


def plan_enrolment(line: EnrolmentLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    group_key = existing_group(snap, ctx.group_identity, line.course)
    user_key = existing_user(snap, ctx, line.user)
    user = snap.users.get(user_key)
    assert user is not None
    _not_anonymous(user["username"])
    key, what = (user_key, group_key), f'"{user["username"]}" in "{group_label(snap, group_key)}"'
    membership = snap.memberships.get(key)
    if line.cmd in ("del", "shift") and membership is None:
        raise RowError(f"{what}: not enrolled")
    if line.cmd == "del":
        snap.memberships.delete(key)
        return [(REMOVED, f"{what} unenrolled")]
    perfil = known_perfil(snap, line.role)
    if line.cmd == "shift":
        changed = snap.memberships.change(key, perfil=perfil)
        return [(UPDATED, f"{what} now {perfil}") if changed else (UNCHANGED, f"{what} already {perfil}")]
    fields: dict[str, object] = dict(perfil=perfil, cohort_id=None)  # a manual enrolment takes it over
    if line.administrador is not None:
        fields["administrador_grupo"] = line.administrador
    if line.responsable is not None:
        fields["responsable_grupo"] = line.responsable
    if line.starttime is not None:
        fields["fecha_alta"] = r.local_day(line.starttime, ctx.zone)
    endtime = line.endtime if line.endtime is not None else (membership or {}).get("endtime")
    fields["endtime"] = endtime
    fields["estado"] = r.membership_active(user["suspended"], endtime, ctx.now)
    if membership is None:
        snap.memberships.put(key, {**new_membership(snap, ctx, user_key, perfil), **fields})
        return [(ADDED, f"{what} enrolled as {perfil}")]
    changed = snap.memberships.change(key, **fields)
    return [(UPDATED, f"{what} updated ({perfil})") if changed else (UNCHANGED, f"{what} unchanged")]


@dataclass(frozen=True, slots=True)
class CohortLine:
    cmd: str
    id: int | None
    idnumber: str | None
    name: str | None
    description: str | None
    user: str | None


def read_cohort(fields: list[str], header: Columns, ctx: PlanContext) -> CohortLine:
    v = partial(header.value, fields)
    line = CohortLine(
        cmd=r.command(v("cmd"), ("add", "del", "free")),
        id=r.whole_number(v("cid"), "cid"),
        idnumber=r.text(v("cidnumber"), "cidnumber", 100) or None,
        name=r.text(v("cname"), "cname", 255) or None,
        description=v("cdescription") or None,
        user=v("userid") or None,
    )
    if line.id is None and line.idnumber is None:
        raise RowError("cid or cidnumber is required")
    if line.cmd == "del" and line.user is None:
        raise RowError("userid is required to remove a member (cmd del)")
    return line


def plan_cohort(line: CohortLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    cohort = find_cohort(snap, line.id, line.idnumber)
    user_key = existing_user(snap, ctx, line.user) if line.user else None
    if line.cmd == "add":
        actions: list[Action] = []
        if cohort is None:
            if line.idnumber is None:
                raise RowError(f"no cohort with id {line.id}")
            cohort = line.idnumber
            snap.cohorts.put(cohort, dict(id=None, name=line.name or cohort, description=line.description or ""))
            actions.append((ADDED, f'cohort "{cohort}" created'))
        elif _cohort_fields(snap, cohort, line):
            actions.append((UPDATED, f'cohort "{cohort}" updated'))
        if user_key is not None:
            actions.extend(add_to_cohort(snap, ctx, cohort, user_key))
        return actions or [(UNCHANGED, f'cohort "{cohort}" unchanged')]
    if cohort is None:
        raise RowError(f'no cohort "{line.idnumber or line.id}"')
    if line.cmd == "del":
        assert user_key is not None
        if snap.cohort_members.get((cohort, user_key)) is None:
            raise RowError(f'"{user_label(snap, user_key)}" is not a member of cohort "{cohort}"')
        return _leave_cohort(snap, cohort, user_key)
    members = snap.cohort_members.partners_of(cohort)
    actions = [a for member in members for a in _leave_cohort(snap, cohort, member)]
    return actions or [(UNCHANGED, f'cohort "{cohort}" already empty')]


def find_cohort(snap: Snapshot, cohort_id: int | None, idnumber: str | None) -> str | None:
    if idnumber is not None:
        return idnumber if snap.cohorts.get(idnumber) is not None else None
    found = snap.cohorts.keys_where(lambda k: (snap.cohorts.get(k) or {}).get("id") == cohort_id)
    return found[0] if found else None  # type: ignore[return-value]


def _cohort_fields(snap: Snapshot, cohort: str, line: CohortLine) -> bool:
    fields = {n: v for n, v in (("name", line.name), ("description", line.description)) if v is not None}
    return snap.cohorts.change(cohort, **fields)


def add_to_cohort(snap: Snapshot, ctx: PlanContext, cohort: str, user_key: Key, create: bool = False) -> list[Action]:
    actions: list[Action] = []
    if snap.cohorts.get(cohort) is None:
        if not create:
            raise RowError(f'no cohort "{cohort}"')
        snap.cohorts.put(cohort, dict(id=None, name=cohort, description=""))
        actions.append((ADDED, f'cohort "{cohort}" created'))
    label = user_label(snap, user_key)
    if snap.cohort_members.get((cohort, user_key)) is not None:
        return actions + [(UNCHANGED, f'"{label}" already in cohort "{cohort}"')]
    snap.cohort_members.put((cohort, user_key), {})
    actions.append((ADDED, f'"{label}" added to cohort "{cohort}"'))
    for binding in snap.cohort_courses.partners_of(cohort):
        actions.extend(_enrol_by_binding(snap, ctx, cohort, user_key, binding))
    return actions


def _enrol_by_binding(snap: Snapshot, ctx: PlanContext, cohort: str, user_key: Key, group_key: Key) -> list[Action]:
    if snap.memberships.get((user_key, group_key)) is not None:
        return []
    binding = snap.cohort_courses.get((cohort, group_key))
    cohort_row = snap.cohorts.get(cohort)
    assert binding is not None and cohort_row is not None
    snap.memberships.put(
        (user_key, group_key),
        new_membership(snap, ctx, user_key, binding["perfil"], cohort_id=cohort_row["id"]),
    )
    return [
        (ADDED, f'"{user_label(snap, user_key)}" enrolled in "{group_label(snap, group_key)}" by cohort "{cohort}"')
    ]


def _unenrol_by_binding(snap: Snapshot, cohort: str, user_key: Key, group_key: Key) -> list[Action]:
    cohort_row = snap.cohorts.get(cohort)
    membership = snap.memberships.get((user_key, group_key))
    if membership is None or cohort_row is None or membership.get("cohort_id") != cohort_row["id"]:
        return []
    snap.memberships.delete((user_key, group_key))
    return [
        (
            REMOVED,
            f'"{user_label(snap, user_key)}" unenrolled from "{group_label(snap, group_key)}" (cohort "{cohort}")',
        )
    ]


def _leave_cohort(snap: Snapshot, cohort: str, user_key: Key) -> list[Action]:
    snap.cohort_members.delete((cohort, user_key))
    actions: list[Action] = [(REMOVED, f'"{user_label(snap, user_key)}" removed from cohort "{cohort}"')]
    for binding in snap.cohort_courses.partners_of(cohort):
        actions.extend(_unenrol_by_binding(snap, cohort, user_key, binding))
    return actions


@dataclass(frozen=True, slots=True)
class BindingLine:
    cmd: str
    cohort: str
    course: str
    role: str


def read_binding(fields: list[str], header: Columns, ctx: PlanContext) -> BindingLine:
    v = partial(header.value, fields)
    return BindingLine(
        cmd=r.command(v("cmd"), ("add", "del")),
        cohort=required(v("cohort"), "cohort"),
        course=required(v("course"), "course"),
        role=r.perfil(v("role") or r.DEFAULT_ROLE, "role"),
    )


def plan_binding(line: BindingLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    if snap.cohorts.get(line.cohort) is None:
        raise RowError(f'no cohort "{line.cohort}"')
    group_key = existing_group(snap, ctx.group_identity, line.course)
    key, what = (line.cohort, group_key), f'cohort "{line.cohort}" -> "{group_label(snap, group_key)}"'
    binding = snap.cohort_courses.get(key)
    members = snap.cohort_members.partners_of(line.cohort)
    if line.cmd == "del":
        if binding is None:
            raise RowError(f"{what}: no such binding")
        actions = [a for member in members for a in _unenrol_by_binding(snap, line.cohort, member, group_key)]
        snap.cohort_courses.delete(key)
        return [(REMOVED, f"{what} unbound"), *actions]
    perfil = known_perfil(snap, line.role)
    if binding is None:
        snap.cohort_courses.put(key, dict(perfil=perfil))
        actions = [(ADDED, f"{what} bound as {perfil}")]
    elif snap.cohort_courses.change(key, perfil=perfil):
        actions = [(UPDATED, f"{what} now {perfil}")]
    else:
        actions = [(UNCHANGED, f"{what} already bound")]
    for member in members:
        actions.extend(_enrol_by_binding(snap, ctx, line.cohort, member, group_key))
    return actions
