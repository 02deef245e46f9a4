"""Planning courses (groups), course deletions and lessons (units), pure over a Snapshot.

A course given an `id` keeps it (groups keep their ids across platforms); an
existing course's id never changes, and it is updated only with `courses_forceupdate`
(tool_sync: "already exists" otherwise). Deleting a course deletes its units,
memberships and statistics.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from aula_ws.domain import sync_rows as r
from aula_ws.domain.csv_rows import Columns, RowError, required
from aula_ws.sync.lines import (
    ADDED,
    REMOVED,
    UNCHANGED,
    UPDATED,
    Action,
    PlanContext,
    existing_group,
)
from aula_ws.sync.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class CourseLine:
    shortname: str
    fullname: str
    id: int | None
    idnumber: str | None
    tracks_progress: bool | None
    startdate: datetime | None
    visible: bool | None

    def identity(self, name: str) -> str:
        value = {"shortname": self.shortname, "idnumber": self.idnumber, "id": self.id}[name]
        if value is None:
            raise RowError(f"{name} is required (it identifies courses)")
        return str(value)


def read_course(fields: list[str], header: Columns, ctx: PlanContext) -> CourseLine:
    v = partial(header.value, fields)
    return CourseLine(
        shortname=r.text(required(v("shortname"), "shortname"), "shortname", 255),
        fullname=r.text(required(v("fullname"), "fullname"), "fullname", 255),
        id=r.whole_number(v("id"), "id"),
        idnumber=r.text(v("idnumber"), "idnumber", 255) or None,
        tracks_progress=r.flag(v("tracks_progress"), "tracks_progress"),
        startdate=r.moment(v("startdate"), "startdate", ctx.zone),
        visible=r.flag(v("visible"), "visible"),
    )


def plan_course(line: CourseLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    key = snap.find_group(
        ctx.options.courses_fileuploadidentifier, line.identity(ctx.options.courses_fileuploadidentifier)
    )
    holder = snap.find_group("shortname", line.shortname)
    if holder is not None and holder != key:
        raise RowError(f'shortname "{line.shortname}" belongs to another course')
    values: dict[str, object] = dict(shortname=line.shortname, fullname=line.fullname)
    for name in ("idnumber", "tracks_progress", "startdate", "visible"):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    before = snap.groups.get(key) if key is not None else None
    if before is None:
        if line.id is not None and snap.find_group("id", str(line.id)) is not None:
            raise RowError(f"id {line.id} belongs to another course")
        defaults = dict(idnumber="", tracks_progress=True, startdate=None, visible=True, created_at=ctx.now)
        snap.put_group(("new", line.shortname), {**defaults, **values, "id": line.id})
        return [(ADDED, f'course "{line.shortname}" created' + (f" with id {line.id}" if line.id else ""))]
    if not ctx.options.courses_forceupdate:
        return [(UNCHANGED, f'course "{before["shortname"]}" already exists (courses_forceupdate is off)')]
    if line.id is not None and line.id != before["id"]:
        raise RowError(f'course "{before["shortname"]}" has id {before["id"]}, not {line.id}: ids are kept')
    if not any(before.get(name) != value for name, value in values.items()):
        return [(UNCHANGED, f'course "{line.shortname}" unchanged')]
    snap.put_group(key, {**before, **values})
    return [(UPDATED, f'course "{line.shortname}" updated')]


def read_deletion(fields: list[str], header: Columns, ctx: PlanContext) -> str:
    return required(fields[0] if fields else "", "course identifier")


def plan_deletion(identifier: str, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    key = existing_group(snap, ctx.options.courses_filedeleteidentifier, identifier)
    row = snap.groups.get(key)
    assert row is not None
    snap.delete_group(key)
    return [(REMOVED, f'course "{row["shortname"]}" deleted')]


@dataclass(frozen=True, slots=True)
class LessonLine:
    cmd: str
    course: str
    code: str
    name: str | None
    type: str | None
    position: int | None


def read_lesson(fields: list[str], header: Columns, ctx: PlanContext) -> LessonLine:
    v = partial(header.value, fields)
    unit_type = v("lnk_type").upper()
    if unit_type and unit_type not in r.UNIT_TYPES:
        raise RowError(f'lnk_type "{unit_type[:20]}" is not one of {", ".join(sorted(r.UNIT_TYPES))}')
    return LessonLine(
        cmd=r.command(v("cmd"), ("add", "del")),
        course=required(v("crsvname"), "crsvname"),
        code=r.text(required(v("lsnvname"), "lsnvname"), "lsnvname", 255),
        name=r.text(v("name"), "name", 255) or None,
        type=unit_type or None,
        position=r.whole_number(v("position"), "position"),
    )


def plan_lesson(line: LessonLine, snap: Snapshot, ctx: PlanContext) -> list[Action]:
    group_key = existing_group(snap, "shortname", line.course)
    key, what = (group_key, line.code), f'lesson "{line.code}" of "{line.course}"'
    before = snap.units.get(key)
    if line.cmd == "del":
        if before is None:
            raise RowError(f"{what}: no such lesson")
        snap.units.delete(key)
        return [(REMOVED, f"{what} deleted")]
    values = {n: getattr(line, n) for n in ("name", "type", "position") if getattr(line, n) is not None}
    if before is None:
        if line.type is None:
            raise RowError("lnk_type is required to create a lesson")
        snap.units.put(key, {"name": line.code, "position": 0, **values})
        return [(ADDED, f"{what} created ({line.type})")]
    changed = snap.units.change(key, **values)
    return [(UPDATED, f"{what} updated") if changed else (UNCHANGED, f"{what} unchanged")]
