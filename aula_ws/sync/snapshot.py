"""What the platform holds for the names one batch of sync lines uses, as plain rows.

The planners change the snapshot line by line (each line sees the lines
before it); `Rows.changes()` then says what to insert, update and delete, so
the shell applies a batch in a few bulk statements whatever the order of its
lines. Keys: an existing user or group is its id; a new one is ("new", name).
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aula_ws.domain.csv_rows import RowError

Row = dict[str, Any]
Key = Hashable


@dataclass
class Changes:
    inserts: list[tuple[Key, Row]] = field(default_factory=list)
    updates: list[tuple[Key, Row]] = field(default_factory=list)  # only the changed fields
    deletes: list[Key] = field(default_factory=list)


class Rows:
    """One table's rows as loaded (`original`) and as planned (`current`)."""

    def __init__(self, loaded: Iterable[tuple[Key, Row]] = ()):
        self.original: dict[Key, Row] = dict(loaded)
        self.current: dict[Key, Row | None] = {}

    def get(self, key: Key) -> Row | None:
        if key in self.current:
            return self.current[key]
        return self.original.get(key)

    def put(self, key: Key, row: Row) -> None:
        self.current[key] = row

    def change(self, key: Key, **fields: Any) -> bool:
        """Sets fields of an existing row; True when anything changed."""
        row = self.get(key)
        assert row is not None
        changed = {name: value for name, value in fields.items() if row.get(name) != value}
        if changed:
            self.current[key] = {**row, **changed}
        return bool(changed)

    def delete(self, key: Key) -> None:
        self.current[key] = None

    def keys_where(self, predicate: Any) -> list[Key]:
        merged = {**self.original, **self.current}
        return [key for key, row in merged.items() if row is not None and predicate(key)]

    def partners_of(self, first: Key) -> list[Key]:
        """For a table keyed by pairs: the second halves of the live keys whose first half is `first`."""
        return [key[1] for key in self.keys_where(lambda k: k[0] == first) if isinstance(key, tuple)]

    def changes(self) -> Changes:
        result = Changes()
        for key, after in self.current.items():
            before = self.original.get(key)
            if after is None:
                if before is not None:
                    result.deletes.append(key)
            elif before is None:
                result.inserts.append((key, after))
            else:
                changed = {name: value for name, value in after.items() if before.get(name) != value}
                if changed:
                    result.updates.append((key, changed))
        return result


class Index:
    """Look-up of rows by a field, kept right as rows change: a map from each value to the keys
    holding it. Unique fields (username, shortname, id) hold one key a value; the others
    (idnumber, email) may hold several, and a look-up finding several is ambiguous."""

    def __init__(self, rows: Rows, fields: Iterable[str]):
        self.rows = rows
        self.maps: dict[str, dict[Any, set[Key]]] = {name: {} for name in fields}
        for key, row in rows.original.items():
            self._add(key, row)

    def find(self, field_name: str, value: Any, what: str) -> Key | None:
        found = self.maps[field_name].get(value)
        if not found:
            return None
        if len(found) > 1:
            raise RowError(f'{len(found)} {what}s have {field_name} "{value}": ambiguous')
        return next(iter(found))

    def note(self, key: Key, before: Row | None, after: Row | None) -> None:
        """Keeps the maps right when a row changes."""
        if before is not None:
            for name, mapping in self.maps.items():
                holders = mapping.get(before.get(name))
                if holders is not None:
                    holders.discard(key)
        if after is not None:
            self._add(key, after)

    def _add(self, key: Key, row: Row) -> None:
        for name, mapping in self.maps.items():
            if row.get(name) not in (None, ""):
                mapping.setdefault(row[name], set()).add(key)


@dataclass
class Snapshot:
    users: Rows = field(default_factory=Rows)
    groups: Rows = field(default_factory=Rows)
    units: Rows = field(default_factory=Rows)  # (group key, code)
    memberships: Rows = field(default_factory=Rows)  # (user key, group key)
    cohorts: Rows = field(default_factory=Rows)  # cohort id, or ("new", n) for one this batch creates
    cohort_members: Rows = field(default_factory=Rows)  # (cohort key, user key)
    cohort_courses: Rows = field(default_factory=Rows)  # (cohort key, group key)
    profile_fields: Rows = field(default_factory=Rows)  # (user key, field name) -> value
    course_groups: Rows = field(default_factory=Rows)  # (group key, name): Moodle groups inside a course
    course_group_members: Rows = field(default_factory=Rows)  # ((group key, name), user key) -> protected
    profiles: frozenset[str] = frozenset()
    # users whose `suspended` changed: their memberships' estado is recomputed
    suspension_changed: set[Key] = field(default_factory=set)

    _places: dict[tuple[Key, Key], dict[str, Key]] | None = field(default=None, repr=False)

    def places_of(self, group_key: Key, user_key: Key) -> dict[str, Key]:
        """The groups inside course `group_key` that `user_key` is in: name -> member key."""
        if self._places is None:  # built at the first use: a scan of what was loaded, once
            self._places = {}
            for key in (*self.course_group_members.original, *self.course_group_members.current):
                self._note_place(key)
        noted = self._places.get((group_key, user_key), {})
        return {name: key for name, key in noted.items() if self.course_group_members.get(key) is not None}

    def join_place(self, key: Key, row: Row) -> None:
        """Puts a member of a group inside a course ((course key, name), user key)."""
        self.course_group_members.put(key, row)
        if self._places is not None:
            self._note_place(key)

    def _note_place(self, key: Key) -> None:
        assert self._places is not None and isinstance(key, tuple)
        (group_key, name), user_key = key
        self._places.setdefault((group_key, user_key), {})[name] = key

    def __post_init__(self) -> None:
        self.user_index = Index(self.users, ("username", "idnumber", "email"))
        self.group_index = Index(self.groups, ("shortname", "id", "idnumber"))

    def find_user(self, identity: str, value: str) -> Key | None:
        if identity == "id":
            number = _id_number(value, "user")
            return number if self.users.get(number) is not None else None
        return self.user_index.find(identity, value, "user")

    def find_cohort(self, identity: str, value: str) -> Key | None:
        """A cohort by id, idnumber or name (a name shared by two cohorts is ambiguous)."""
        wanted: object = value
        if identity == "id":
            wanted = _id_number(value, "cohort")
        found = [
            k for k in self.cohorts.keys_where(lambda k: True) if (self.cohorts.get(k) or {}).get(identity) == wanted
        ]
        if len(found) > 1:
            raise RowError(f'{len(found)} cohorts have {identity} "{value}": ambiguous')
        return found[0] if found else None

    def find_group(self, identity: str, value: str) -> Key | None:
        if identity == "id":
            return self.group_index.find("id", _id_number(value, "course"), "course")
        return self.group_index.find(identity, value, "course")

    def put_user(self, key: Key, row: Row) -> None:
        self.user_index.note(key, self.users.get(key), row)
        self.users.put(key, row)

    def put_group(self, key: Key, row: Row) -> None:
        self.group_index.note(key, self.groups.get(key), row)
        self.groups.put(key, row)

    def delete_user(self, key: Key) -> None:
        self.user_index.note(key, self.users.get(key), None)
        self.users.delete(key)
        for membership in self.memberships.keys_where(lambda k: k[0] == key):
            self.memberships.delete(membership)
        for table in (self.cohort_members, self.course_group_members, self.profile_fields):
            position = 0 if table is self.profile_fields else 1
            for row_key in table.keys_where(lambda k, at=position: k[at] == key):
                table.delete(row_key)

    def delete_group(self, key: Key) -> None:
        self.group_index.note(key, self.groups.get(key), None)
        self.groups.delete(key)
        for table, position in ((self.memberships, 1), (self.units, 0)):
            for row_key in table.keys_where(lambda k, at=position: k[at] == key):
                table.delete(row_key)
        for binding in self.cohort_courses.keys_where(lambda k: k[1] == key):
            self.cohort_courses.delete(binding)
        for member in self.course_group_members.keys_where(lambda k: k[0][0] == key):
            self.course_group_members.delete(member)
        for course_group in self.course_groups.keys_where(lambda k: k[0] == key):
            self.course_groups.delete(course_group)

    def delete_cohort(self, key: Key) -> None:
        """The cohort, its members and its bindings (the planner removes what the bindings enrolled)."""
        self.cohorts.delete(key)
        for table in (self.cohort_members, self.cohort_courses):
            for row_key in table.keys_where(lambda k: k[0] == key):
                table.delete(row_key)


def _id_number(value: str, what: str) -> int:
    """An id column's value: ASCII digits (str.isdigit() also takes "١٢"), else the line's error."""
    if not value.isascii() or not value.isdigit():
        raise RowError(f'{what} id "{value[:20]}" is not a whole number')
    return int(value)
