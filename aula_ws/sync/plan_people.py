"""Planning users, enrolments, cohorts and cohort bindings (pure, over a Snapshot), as tool_sync does
(reference/tool-sync-files.md sections 3 to 5).

Users: found by `users_primaryidentity` when that cell is filled, else by username; created,
updated (an empty optional cell keeps the stored value) or deleted (`deleted` = 1);
`course<n>`/`role<n>`/`start<n>`/`end<n>`/`group<n>` enrol on the fly; `cohort` (name) or
`cohortid` (idnumber) adds the user to that cohort (created if missing). Enrolments: `add`
enrols or updates, `shift` replaces the perfil (enrols a non-member), `del` removes (a
non-member is reported); then `gcmd` with `g1`..`g9` moves the user among the course's groups.
A membership's `estado` is true unless the user is suspended or its `endtime` has passed.
Members of a cohort bound to a course are enrolled in it; leaving the cohort (or the binding
going) removes the enrolments the binding made, never others.
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
    join_course_group,
    known_perfil,
    leave_course_groups,
    new_membership,
    user_label,
)
from aula_ws.sync.snapshot import Key, Row, Snapshot

NO_PASSWORD = "*NOPASS*"  # tool_sync: stored as is, so the account has no password sign-in


@dataclass(frozen=True, slots=True)
class CourseSlot:
    course: str
    role: str
    start: datetime | None
    end: datetime | None
    group: str | None


@dataclass(frozen=True, slots=True)
class UserLine:
    username: str
    oldusername: str | None
    firstname: str
    lastname: str
    idnumber: str | None
    email: str | None
    password: str | None
    auth: str | None
    suspended: bool | None
    deleted: bool
    cohort: str | None  # a cohort name
    cohortid: str | None  # a cohort idnumber
    courses: tuple[CourseSlot, ...]
    profile: tuple[tuple[str, str], ...]  # (field name, value), filled cells only
    mnethost: str | None = None  # the MNET peer the user comes from ("": local; None: column absent)


def read_user(fields: list[str], header: Columns, ctx: PlanContext) -> UserLine:
    v = partial(header.value, fields)
    deleted = r.flag(v("deleted"), "deleted") is True
    username = v("username").lower()
    if not deleted or username:
        r.login(username)
    courses = []
    for n in header.course_slots:  # from 1; the line's first empty course<n> ends them
        if not v(f"course{n}"):
            break
        courses.append(
            CourseSlot(
                course=v(f"course{n}"),
                role=v(f"role{n}") or r.DEFAULT_ROLE,
                start=r.moment(v(f"start{n}"), f"start{n}", ctx.zone),
                end=r.moment(v(f"end{n}"), f"end{n}", ctx.zone),
                group=r.text(v(f"group{n}"), f"group{n}", 254) or None,
            )
        )
    profile = tuple(
        (name.removeprefix(r.PROFILE_FIELD), r.text(value, name, 10_000))
        for name in header.positions
        if name.startswith(r.PROFILE_FIELD) and (value := v(name))
    )
    oldusername = v("oldusername").lower() or None
    return UserLine(
        username=username,
        oldusername=r.login(oldusername, "oldusername") if oldusername else None,
        firstname=r.text(v("firstname") if deleted else required(v("firstname"), "firstname"), "firstname", 100),
        lastname=r.text(v("lastname") if deleted else required(v("lastname"), "lastname"), "lastname", 100),
        idnumber=r.text(v("idnumber"), "idnumber", 255) or None,
        email=r.text(v("email"), "email", 255) or None,
        password=v("password") or None,
        auth=r.text(v("auth"), "auth", 20) or None,
        suspended=r.flag(v("suspended"), "suspended"),
        deleted=deleted,
        cohort=r.text(v("cohort"), "cohort", 255) or None,
        cohortid=r.text(v("cohortid"), "cohortid", 100) or None,
        courses=tuple(courses),
        profile=profile,
        mnethost=_home(v("mnethost") or v("wwwroot")) if header.has("mnethost") or header.has("wwwroot") else None,
    )


def _home(text: str) -> str:
    """A user's home (MNET): a peer's root URL, or "" for a local user."""
    root = r.text(text, "mnethost", 255).strip().rstrip("/")
    if root and not (root.startswith(("http://", "https://")) and " " not in root):
        raise RowError(f'mnethost "{root}" is not a root URL (such as https://moodle.example.org)')
    return root


def user_lookup(line: UserLine, ctx: PlanContext) -> tuple[str, str]:
    """(field, value) the line's account is looked up by: `users_primaryidentity` when its cell
    is filled, else the username (tool_sync's order)."""
    identity = ctx.options.users_primaryidentity
    value = getattr(line, identity, None) if identity in ("idnumber", "email") else None
    if value:
        return identity, value
    return "username", line.oldusername if line.oldusername and ctx.options.users_allowrename else line.username


def plan_user(line: UserLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    identity, value = user_lookup(line, ctx)
    key = snap.find_user(identity, value)
    if line.deleted:
        if key is None:
            return [(UNCHANGED, f'no user with {identity} "{value}" to delete')]
        label = user_label(snap, key)
        _not_anonymous(label)
        snap.delete_user(key)
        return [(REMOVED, f'user "{label}" deleted')]
    if key is None and identity == "username" and line.oldusername and ctx.options.users_allowrename:
        raise RowError(f'no user "{line.oldusername}" to rename to "{line.username}"')
    targets = [
        (
            existing_group(snap, ctx.options.courses_primaryidentity, slot.course),
            known_perfil(snap, r.perfil(slot.role, "role")),
            slot,
        )
        for slot in line.courses
    ]
    before = snap.users.get(key) if key is not None else None
    if before is not None:
        _not_anonymous(before["username"])
    _no_collision(snap, key, "username", line.username)
    if line.idnumber:
        _no_collision(snap, key, "idnumber", line.idnumber)
    write_email = line.email is not None and (before is None or not ctx.options.users_protectemails)
    if write_email and identity != "email":
        _no_collision(snap, key, "email", line.email or "")
    values: dict[str, object] = dict(username=line.username, firstname=line.firstname, lastname=line.lastname)
    for name in ("idnumber", "suspended", "auth") + (("email",) if write_email else ()):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    if line.mnethost is not None:
        values["mnethost"] = line.mnethost or None
    if line.password == NO_PASSWORD:
        values["password_hash"] = NO_PASSWORD
    elif line.password is not None:
        values["password_hash"] = ctx.hash_password(line.password, before.get("password_hash") if before else None)
    renamed = f' (was "{before["username"]}")' if before is not None and before["username"] != line.username else ""
    actions: list[Action]
    if key is None or before is None:
        key = ("new", line.username)
        defaults = dict(email="", idnumber="", suspended=False, password_hash=None, auth="manual", mnethost=None)
        snap.put_user(key, {**defaults, **values})
        actions = [(ADDED, f'user "{line.username}" created{_masked(line)}')]
    elif any(before.get(name) != value for name, value in values.items()):
        if "suspended" in values and values["suspended"] != before["suspended"]:
            snap.suspension_changed.add(key)
        snap.put_user(key, {**before, **values})
        actions = [(UPDATED, f'user "{line.username}" updated{renamed}{_masked(line)}')]
    else:
        actions = [(UNCHANGED, f'user "{line.username}" unchanged')]
    if _profile_fields(snap, key, line.profile) and actions[0][0] == UNCHANGED:
        actions = [(UPDATED, f'user "{line.username}" updated (profile fields)')]
    for group_key, perfil, slot in targets:
        actions.append(_enrol_on_the_fly(snap, ctx, key, group_key, perfil, slot))
        if slot.group:
            actions.append(join_course_group(snap, key, group_key, slot.group, create=True))
    if line.cohort or line.cohortid:
        actions.extend(_users_cohort(snap, ctx, line, key))
    return actions


def _no_collision(snap: Snapshot, key: Key | None, field_name: str, value: str) -> None:
    holder = snap.find_user(field_name, value)
    if holder is not None and holder != key:
        raise RowError(f'{field_name} "{value}" belongs to another user')


def _profile_fields(snap: Snapshot, user_key: Key, profile: tuple[tuple[str, str], ...]) -> bool:
    changed = False
    for name, value in profile:
        if snap.profile_fields.get((user_key, name)) is None:
            snap.profile_fields.put((user_key, name), dict(value=value))
            changed = True
        else:
            changed = snap.profile_fields.change((user_key, name), value=value) or changed
    return changed


def _masked(line: UserLine) -> str:
    return " (password ********)" if line.password is not None and line.password != NO_PASSWORD else ""


def _not_anonymous(username: str) -> None:
    if username == ANONYMOUS_LOGIN:
        raise RowError(f"{ANONYMOUS_LOGIN} is the platform's own guest user and cannot be changed")


def _enrol_on_the_fly(
    snap: Snapshot, ctx: PlanContext, user_key: Key, group_key: Key, perfil: str, slot: CourseSlot
) -> Action:
    course = group_label(snap, group_key)
    if snap.memberships.get((user_key, group_key)) is not None:
        return (UNCHANGED, f'already enrolled in "{course}"')
    row = new_membership(snap, ctx, user_key, perfil, endtime=slot.end, since=slot.start)
    snap.memberships.put((user_key, group_key), row)
    return (ADDED, f'enrolled in "{course}" as {perfil}')


def _users_cohort(snap: Snapshot, ctx: PlanContext, line: UserLine, user_key: Key) -> list[Action]:
    """The users file's `cohort` (a name) or `cohortid` (an idnumber): created if missing."""
    field_name, value = ("name", line.cohort) if line.cohort else ("idnumber", line.cohortid or "")
    cohort = snap.find_cohort(field_name, value)
    actions: list[Action] = []
    if cohort is None:
        cohort = _create_cohort(snap, line.cohort or line.cohortid or "", line.cohortid, None)
        actions.append((ADDED, f'cohort "{cohort_label(snap, cohort)}" created'))
    return actions + add_to_cohort(snap, ctx, cohort, user_key)


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
    gcmd: str | None
    groups: tuple[str, ...]


GROUP_COMMANDS = ("gadd", "gaddcreate", "greplace", "greplacecreate", "gdel")
GROUP_COLUMNS = tuple(f"g{n}" for n in range(1, 10))


def read_enrolment(fields: list[str], header: Columns, ctx: PlanContext) -> EnrolmentLine:
    v = partial(header.value, fields)
    cmd = r.command(v("cmd") or ctx.options.enrols_defaultcmd, ("add", "del", "shift"))
    gcmd = v("gcmd").lower()
    if gcmd and gcmd not in GROUP_COMMANDS:
        raise RowError(f'gcmd "{gcmd[:20]}" is not one of {", ".join(GROUP_COMMANDS)}')
    return EnrolmentLine(
        cmd=cmd,
        course=required(v("cid"), "cid"),
        user=required(v("uid"), "uid"),
        role=r.perfil(v("rolename")) if cmd != "del" or v("rolename") else "",
        starttime=r.moment(v("starttime"), "starttime", ctx.zone),
        endtime=r.moment(v("endtime"), "endtime", ctx.zone),
        administrador=r.flag(v("administrador"), "administrador"),
        responsable=r.flag(v("responsable"), "responsable"),
        gcmd=gcmd or None,
        groups=tuple(
            name for column in GROUP_COLUMNS if header.has(column) and (name := r.text(v(column), column, 254))
        ),
    )


def plan_enrolment(line: EnrolmentLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    group_key = existing_group(snap, ctx.options.enrols_courseidentifier, line.course)
    user_key = existing_user(snap, ctx.options.enrols_useridentifier, line.user)
    user = snap.users.get(user_key)
    assert user is not None
    _not_anonymous(user["username"])
    key, what = (user_key, group_key), f'"{user["username"]}" in "{group_label(snap, group_key)}"'
    membership = snap.memberships.get(key)
    actions: list[Action]
    if line.cmd == "del":
        if membership is None:
            actions = [(UNCHANGED, f"{what}: not enrolled, nothing to unenrol")]
        else:
            actions = leave_course_groups(snap, user_key, group_key)
            snap.memberships.delete(key)
            actions.insert(0, (REMOVED, f"{what} unenrolled"))
    elif line.cmd == "shift" and membership is not None:
        perfil = known_perfil(snap, line.role)
        changed = snap.memberships.change(key, perfil=perfil)
        actions = [(UPDATED, f"{what} now {perfil}") if changed else (UNCHANGED, f"{what} already {perfil}")]
    else:  # add, or shift of a non-member: enrolled
        actions = [_enrol(line, snap, ctx, user, key, membership, what)]
    return actions + _move_among_groups(line, snap, ctx, user_key, group_key)


def _enrol(
    line: EnrolmentLine,
    snap: Snapshot,
    ctx: PlanContext,
    user: Row,
    key: tuple[Key, Key],
    membership: Row | None,
    what: str,
) -> Action:
    perfil = known_perfil(snap, line.role)
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
        snap.memberships.put(key, {**new_membership(snap, ctx, key[0], perfil), **fields})
        return (ADDED, f"{what} enrolled as {perfil}")
    changed = snap.memberships.change(key, **fields)
    return (UPDATED, f"{what} updated ({perfil})") if changed else (UNCHANGED, f"{what} unchanged")


def _move_among_groups(
    line: EnrolmentLine, snap: Snapshot, ctx: PlanContext, user_key: Key, group_key: Key
) -> list[Action]:
    """gcmd after any cmd: gadd joins existing groups, gaddcreate creates missing ones,
    greplace(create) first leaves every group of the course, gdel leaves the named ones."""
    if line.gcmd is None:
        return []
    protected_only = ctx.options.enrols_protectgroups
    if line.gcmd == "gdel":
        return leave_course_groups(snap, user_key, group_key, list(line.groups), protected_only)
    actions: list[Action] = []
    if line.gcmd.startswith("greplace"):
        actions += leave_course_groups(snap, user_key, group_key, None, protected_only)
    create = line.gcmd.endswith("create")
    actions += [join_course_group(snap, user_key, group_key, name, create, protected=True) for name in line.groups]
    return actions


@dataclass(frozen=True, slots=True)
class CohortLine:
    cmd: str
    key: str  # the value of the cohort's identifier (cohorts_cohortidentifier)
    idnumber: str | None
    name: str | None
    description: str | None
    user: str | None


def read_cohort(fields: list[str], header: Columns, ctx: PlanContext) -> CohortLine:
    v = partial(header.value, fields)
    column = "c" + ctx.options.cohorts_cohortidentifier  # cid, cidnumber or cname
    if not header.has(column):  # tool_sync's samples put names or idnumbers in `cid`
        column = "cid"
    return CohortLine(
        cmd=r.command(v("cmd"), ("add", "del", "free")),
        key=required(v(column), column),
        idnumber=r.text(v("cidnumber"), "cidnumber", 100) or None,
        name=r.text(v("cname"), "cname", 255) or None,
        description=v("cdescription") or None,
        user=v("userid") or None,
    )


def plan_cohort(line: CohortLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    identity = ctx.options.cohorts_cohortidentifier
    cohort = snap.find_cohort(identity, line.key)
    user_key = existing_user(snap, ctx.options.cohorts_useridentifier, line.user) if line.user else None
    if line.cmd == "add":
        actions: list[Action] = []
        if cohort is None:
            cohort = _new_cohort(line, snap, ctx)
            actions.append((ADDED, f'cohort "{cohort_label(snap, cohort)}" created'))
        elif _cohort_fields(snap, cohort, line):
            actions.append((UPDATED, f'cohort "{cohort_label(snap, cohort)}" updated'))
        if user_key is not None:
            actions.extend(add_to_cohort(snap, ctx, cohort, user_key))
        return actions or [(UNCHANGED, f'cohort "{cohort_label(snap, cohort)}" unchanged')]
    if cohort is None:
        raise RowError(f'no cohort with {identity} "{line.key}"')
    label = cohort_label(snap, cohort)
    if line.cmd == "del" and user_key is not None:
        if snap.cohort_members.get((cohort, user_key)) is None:
            return [(UNCHANGED, f'"{user_label(snap, user_key)}" is not a member of cohort "{label}"')]
        return _leave_cohort(snap, cohort, user_key)
    members = snap.cohort_members.partners_of(cohort)
    actions = [a for member in members for a in _leave_cohort(snap, cohort, member)]
    if line.cmd == "del":  # without userid: the cohort itself goes
        snap.delete_cohort(cohort)
        return actions + [(REMOVED, f'cohort "{label}" deleted')]
    return actions or [(UNCHANGED, f'cohort "{label}" already empty')]


def _new_cohort(line: CohortLine, snap: Snapshot, ctx: PlanContext) -> Key:
    identity = ctx.options.cohorts_cohortidentifier
    if not ctx.options.cohorts_autocreate:
        raise RowError(f'no cohort with {identity} "{line.key}" (cohorts_autocreate is off)')
    if identity == "id":
        raise RowError(f"no cohort with id {line.key} (a cohort named by id cannot be created)")
    idnumber = line.key if identity == "idnumber" else line.idnumber
    name = line.key if identity == "name" else (line.name or line.key)
    if idnumber and snap.find_cohort("idnumber", idnumber) is not None:
        raise RowError(f'conflict: another cohort has the idnumber "{idnumber}"')
    if identity != "name" and snap.find_cohort("name", name) is not None:
        raise RowError(f'conflict: another cohort has the name "{name}"')
    return _create_cohort(snap, name, idnumber, line.description)


def _create_cohort(snap: Snapshot, name: str, idnumber: str | None, description: str | None) -> Key:
    key = ("new", len(snap.cohorts.current))
    snap.cohorts.put(key, dict(id=None, idnumber=idnumber or None, name=name, description=description or ""))
    return key


def cohort_label(snap: Snapshot, cohort: Key) -> str:
    row = snap.cohorts.get(cohort) or {}
    return str(row.get("idnumber") or row.get("name") or cohort)


def _cohort_fields(snap: Snapshot, cohort: Key, line: CohortLine) -> bool:
    fields = {n: v for n, v in (("name", line.name), ("description", line.description)) if v is not None}
    return snap.cohorts.change(cohort, **fields)


def add_to_cohort(snap: Snapshot, ctx: PlanContext, cohort: Key, user_key: Key) -> list[Action]:
    label, who = cohort_label(snap, cohort), user_label(snap, user_key)
    if snap.cohort_members.get((cohort, user_key)) is not None:
        return [(UNCHANGED, f'"{who}" already in cohort "{label}"')]
    snap.cohort_members.put((cohort, user_key), {})
    actions: list[Action] = [(ADDED, f'"{who}" added to cohort "{label}"')]
    for binding in snap.cohort_courses.partners_of(cohort):
        actions.extend(_enrol_by_binding(snap, ctx, cohort, user_key, binding))
    return actions


def _enrol_by_binding(snap: Snapshot, ctx: PlanContext, cohort: Key, user_key: Key, group_key: Key) -> list[Action]:
    binding = snap.cohort_courses.get((cohort, group_key))
    cohort_row = snap.cohorts.get(cohort)
    assert binding is not None and cohort_row is not None
    actions: list[Action] = []
    label = cohort_label(snap, cohort)
    if snap.memberships.get((user_key, group_key)) is None:
        row = new_membership(
            snap,
            ctx,
            user_key,
            binding["perfil"],
            endtime=binding.get("enrolend"),
            cohort_id=cohort_row["id"],
            since=binding.get("enrolstart"),
        )
        snap.memberships.put((user_key, group_key), row)
        who, course = user_label(snap, user_key), group_label(snap, group_key)
        actions.append((ADDED, f'"{who}" enrolled in "{course}" by cohort "{label}"'))
    if binding.get("makegroup"):
        actions.append(join_course_group(snap, user_key, group_key, cohort_row["name"] or label, create=True))
    return actions


def _unenrol_by_binding(snap: Snapshot, cohort: Key, user_key: Key, group_key: Key) -> list[Action]:
    cohort_row = snap.cohorts.get(cohort)
    membership = snap.memberships.get((user_key, group_key))
    if membership is None or cohort_row is None or membership.get("cohort_id") != cohort_row["id"]:
        return []
    actions = leave_course_groups(snap, user_key, group_key)
    snap.memberships.delete((user_key, group_key))
    who, course = user_label(snap, user_key), group_label(snap, group_key)
    return [(REMOVED, f'"{who}" unenrolled from "{course}" (cohort "{cohort_label(snap, cohort)}")'), *actions]


def _leave_cohort(snap: Snapshot, cohort: Key, user_key: Key) -> list[Action]:
    snap.cohort_members.delete((cohort, user_key))
    who = user_label(snap, user_key)
    actions: list[Action] = [(REMOVED, f'"{who}" removed from cohort "{cohort_label(snap, cohort)}"')]
    for binding in snap.cohort_courses.partners_of(cohort):
        actions.extend(_unenrol_by_binding(snap, cohort, user_key, binding))
    return actions


@dataclass(frozen=True, slots=True)
class BindingLine:
    cmd: str  # add (restore) or del (fulldel)
    cohort: str
    course: str
    role: str  # a perfil, or r.ALL_ROLES
    enrolstart: datetime | None
    enrolend: datetime | None
    makegroup: bool


def read_binding(fields: list[str], header: Columns, ctx: PlanContext) -> BindingLine:
    v = partial(header.value, fields)
    cmd = r.command(v("cmd"), ("add", "del", "restore", "fulldel"))
    role = v("role") or (r.ALL_ROLES if cmd in ("del", "fulldel") else r.DEFAULT_ROLE)
    if role == r.ALL_ROLES and cmd in ("add", "restore"):
        raise RowError("role * (every role) is only for del")
    return BindingLine(
        cmd={"restore": "add", "fulldel": "del"}.get(cmd, cmd),
        cohort=required(v("cohort"), "cohort"),
        course=required(v("course"), "course"),
        role=role if role == r.ALL_ROLES else r.perfil(role, "role"),
        enrolstart=r.moment(v("enrolstart"), "enrolstart", ctx.zone),
        enrolend=r.moment(v("enrolend"), "enrolend", ctx.zone),
        makegroup=r.flag(v("makegroup"), "makegroup") is True,
    )


def plan_binding(line: BindingLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    identity = ctx.options.cohorts_cohortidentifier
    cohort = snap.find_cohort(identity, line.cohort)
    if cohort is None:
        raise RowError(f'no cohort with {identity} "{line.cohort}"')
    group_key = existing_group(snap, ctx.options.cohorts_courseidentifier, line.course)
    key = (cohort, group_key)
    what = f'cohort "{cohort_label(snap, cohort)}" -> "{group_label(snap, group_key)}"'
    binding = snap.cohort_courses.get(key)
    members = snap.cohort_members.partners_of(cohort)
    if line.cmd == "del":
        if binding is None or line.role not in (r.ALL_ROLES, binding["perfil"]):
            raise RowError(f"{what}: no such binding" + ("" if line.role == r.ALL_ROLES else f" as {line.role}"))
        actions = [a for member in members for a in _unenrol_by_binding(snap, cohort, member, group_key)]
        snap.cohort_courses.delete(key)
        return [(REMOVED, f"{what} unbound"), *actions]
    values = dict(
        perfil=known_perfil(snap, line.role),
        enrolstart=line.enrolstart,
        enrolend=line.enrolend,
        makegroup=line.makegroup,
    )
    if binding is None:
        snap.cohort_courses.put(key, values)
        actions = [(ADDED, f"{what} bound as {values['perfil']}")]
    elif snap.cohort_courses.change(key, **values):
        actions = [(UPDATED, f"{what} now {values['perfil']}")]
    else:
        actions = [(UNCHANGED, f"{what} already bound")]
    for member in members:
        actions.extend(_enrol_by_binding(snap, ctx, cohort, member, group_key))
    return actions
