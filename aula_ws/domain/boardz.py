"""boardz's records from our model (reference report-etl-boardz.md section 8): group = course,
unit = course module, perfil = role, membership = enrolment, session = grade.

Each query writes its full field set on every record; a field we cannot know is present and
empty (`nc` or `N.C.` where boardz writes those for "not known"). The README lists them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aula_ws.domain.etl import unix

NO_GAP = 600  # boardz: seconds of "gap" after a user's last known event
NC, UNKNOWN = "nc", "N.C."
_USER_FIELDS = ("city", "country", "department", "institution", "lang")


@dataclass(frozen=True)
class Window:
    """What every record of one answer shares: the site's host and root URL, the window served."""

    host: str
    wwwroot: str
    from_s: int
    to_s: int


ACTION_FIELDS = (
    *("action", "allroles", "anonymous", "blockid", "classifier1", "classifier2", "classifier3", "cmid"),
    *("cohortid", "component", "contextid", "contextinstanceid", "contextlevel", "coursecategoryid"),
    *("courseid", "crud", "edulevel", "from", "fullcoursecategorypath", "gap", "groupid", "groupmode"),
    *("hasdirectroleincourse", "host", "hrole", "id", "instance", "ip", "objectid", "objecttable", "origin"),
    *("realuserid", "relateduserid", "sectionid", "target", "timecreated", "to", "userhost", "userhostid"),
    *("userhostname", "userid", "username", "visible"),
)
# fields boardz reads from Moodle's log that we do not hold: present and empty
ACTION_UNKNOWN = (
    *("anonymous", "component", "contextid", "crud", "edulevel", "fullcoursecategorypath", "ip"),
    *("objectid", "objecttable", "origin", "realuserid", "relateduserid", "target", "userhostname"),
)


def instance_label(unit_id: int | None, code: str | None, name: str | None, group: "GroupLabel") -> str:
    """boardz's `instance`: `[unit id] :: code :: name`, else `[group id] :: idnumber or --- :: fullname`."""
    if unit_id is not None:
        return f"[{unit_id}] :: {code or '---'} :: {name or ''}"
    return f"[{group.id}] :: {group.idnumber or '---'} :: {group.fullname}"


@dataclass(frozen=True)
class GroupLabel:
    id: int
    idnumber: str
    fullname: str


@dataclass(frozen=True)
class Action:
    """One activity-log event and what boardz adds about it."""

    id: int
    time: datetime
    action: str
    user_id: int
    username: str
    group: GroupLabel
    group_visible: bool
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    perfil: str | None  # None: the user is not a member of the group
    cohort_id: int | None
    next_time: datetime | None  # the user's next event anywhere, if any


def action_record(a: Action, window: Window) -> Mapping[str, Any]:
    """An event as boardz's logrecord; `gap` is the seconds to the user's next event, else 600."""
    record: dict[str, Any] = dict.fromkeys(ACTION_UNKNOWN, "")
    record.update(
        dict.fromkeys(("blockid", "classifier1", "classifier2", "classifier3", "coursecategoryid"), NC),
        action=a.action,
        allroles=a.perfil or NC,
        cmid=NC if a.unit_id is None else a.unit_id,
        cohortid=a.cohort_id or 0,
        contextinstanceid=a.group.id if a.unit_id is None else a.unit_id,
        contextlevel=50 if a.unit_id is None else 70,
        courseid=a.group.id,
        gap=NO_GAP if a.next_time is None else unix(a.next_time) - unix(a.time),
        groupid=NC,
        groupmode="nogroups",
        hasdirectroleincourse="no" if a.perfil is None else "yes",
        hrole=a.perfil or "",
        id=a.id,
        instance=instance_label(a.unit_id, a.unit_code, a.unit_name, a.group),
        sectionid=NC,
        timecreated=unix(a.time),
        userhost="local",
        userhostid=1,
        userid=a.user_id,
        username=a.username,
        visible="visible" if a.group_visible else "nonvisible",
        **_window(window),
    )
    return record


ACADEMIC_FIELDS = (
    *("administrador_grupo", "city", "context", "contextlevel", "country", "courseid", "department"),
    *("endtime", "estado", "fecha_alta", "from", "groups", "host", "instance", "institution", "lang"),
    *("object", "perfil", "responsable_grupo", "role", "section", "to", "userhost", "username"),
)


@dataclass(frozen=True)
class Membership:
    group: GroupLabel
    username: str
    perfil: str
    profile_name: str
    administrador_grupo: bool
    responsable_grupo: bool
    estado: bool
    fecha_alta: date
    endtime: datetime | None
    groups: Sequence[str]  # the groups inside the course the user is in


def academic_record(m: Membership, window: Window) -> Mapping[str, Any]:
    """A membership as boardz's role assignment in a course context, with our additions
    (perfil, estado, dates, group flags, courseid, the groups inside the course)."""
    return {
        **dict.fromkeys(_USER_FIELDS, UNKNOWN),
        **_window(window),
        "administrador_grupo": int(m.administrador_grupo),
        "context": "Course context level",
        "contextlevel": 50,
        "courseid": m.group.id,
        "endtime": None if m.endtime is None else unix(m.endtime),
        "estado": int(m.estado),
        "fecha_alta": unix(datetime.combine(m.fecha_alta, datetime.min.time())),
        "groups": ",".join(m.groups),
        "instance": instance_label(None, None, None, m.group),
        "object": "",
        "perfil": m.perfil,
        "responsable_grupo": int(m.responsable_grupo),
        "role": m.profile_name,
        "section": "Assignations",
        "userhost": window.wwwroot,
        "username": m.username,
    }


GRADE_FIELDS = (
    *("city", "country", "courseid", "department", "enrollable", "finalgrade", "from", "host"),
    *("institution", "iteminstance", "itemmodule", "lang", "locked", "overridden", "status"),
    *("timecreated", "timespent", "to", "username"),
)


@dataclass(frozen=True)
class Grade:
    """A lesson session as boardz's grade: its score in its unit."""

    time: datetime
    status: str
    score: float | None
    time_spent: int | None
    group_id: int
    unit_id: int
    unit_type: str
    username: str


def grade_record(g: Grade, window: Window) -> Mapping[str, Any]:
    return {
        **dict.fromkeys(_USER_FIELDS, UNKNOWN),
        **_window(window),
        "courseid": g.group_id,
        "enrollable": 0,
        "finalgrade": g.score,
        "iteminstance": g.unit_id,
        "itemmodule": g.unit_type,
        "locked": 0,
        "overridden": 0,
        "status": g.status,
        "timecreated": unix(g.time),
        "timespent": g.time_spent,
        "username": g.username,
    }


def _window(window: Window) -> dict[str, Any]:
    return {"from": window.from_s, "to": window.to_s, "host": window.host}


def values(fields: Sequence[str], record: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(record[name] for name in fields)
