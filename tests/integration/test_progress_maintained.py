"""The maintained progress after every kind of write (SQLite and PostgreSQL): each answer equals the
pure rule over the raw records then in the database, and `progress rebuild` changes nothing."""

import io
import random
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from aula_ws.domain.contract_dates import end_of_day
from aula_ws.domain.progress import GroupShape, LearnerHistory, SessionRecord, avance
from aula_ws.services.progress import rebuild_progress
from aula_ws.services.statistics_import import ImportOptions, import_statistics
from aula_ws.services.sync import sync_file
from aula_ws.store.platform import find_group
from aula_ws.store.tables import (
    activity_log,
    course_statuses,
    groups,
    lesson_sessions,
    member_progress,
    memberships,
    unit_progress,
    units,
    users,
)
from tests.integration.test_progress_differential import NOW, QUERY_DAYS, ZONE, build, random_call

LESSON_HEADER = "user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score\n"
COURSE_HEADER = "user_loginid\tcrsvname\tcourse_status\tcourse_status_date\n"
ACTIVITY_HEADER = "user_loginid\tcrsvname\tlsnvname\ttime\n"


def rows(engine, query):
    with engine.connect() as connection:
        return connection.execute(query).all()


def raw_histories(engine):
    """(group id, login) -> LearnerHistory, read back from the statistics tables."""
    found: defaultdict[tuple[int, str], dict[str, list[Any]]] = defaultdict(
        lambda: {"sessions": [], "course": [], "activity": []}
    )
    s, c, a = lesson_sessions, course_statuses, activity_log
    sessions = select(units.c.group_id, users.c.username, units.c.code, s.c.status, s.c.status_date).select_from(
        s.join(units, units.c.id == s.c.unit_id).join(users, users.c.id == s.c.user_id)
    )
    for gid, login, code, status, at in rows(engine, sessions):
        found[gid, login]["sessions"].append(SessionRecord(code, status, at))
    courses = select(c.c.group_id, users.c.username, c.c.status, c.c.status_date).join(users, users.c.id == c.c.user_id)
    for gid, login, status, at in rows(engine, courses):
        found[gid, login]["course"].append((status, at))
    activity = select(a.c.group_id, users.c.username, a.c.time).join(users, users.c.id == a.c.user_id)
    for gid, login, at in rows(engine, activity):
        found[gid, login]["activity"].append(at)
    return {
        key: LearnerHistory(tuple(h["sessions"]), tuple(h["course"]), tuple(h["activity"])) for key, h in found.items()
    }


def check(engine, rng, step):
    """Every group, undated and with random dates (many on the bounds the events sit on)."""
    histories = raw_histories(engine)
    checked = 0
    with engine.connect() as connection:
        shapes = {}
        for (gid,) in connection.execute(select(groups.c.id)):
            group = find_group(connection, gid)
            assert group is not None
            shapes[gid] = GroupShape(group.unit_count, group.tracks_progress)
    for gid, shape in shapes.items():
        for _ in range(4):
            desde, hasta, window, answer = random_call(engine, rng, gid)
            for row in answer:
                history = histories.get((gid, row.id_usuario), LearnerHistory())
                expected = avance(shape, window, partial(state_at, history))
                assert row.avance == expected, (step, gid, row.id_usuario, desde, hasta)
                checked += 1
    assert_rebuild_changes_nothing(engine, step)
    return checked


def state_at(history, t):
    return history.state_at(NOW if t is None else t)


def maintained(engine):
    return (
        rows(engine, select(unit_progress).order_by(unit_progress.c.user_id, unit_progress.c.unit_id)),
        rows(engine, select(member_progress).order_by(member_progress.c.user_id, member_progress.c.group_id)),
    )


def assert_rebuild_changes_nothing(engine, step):
    before = maintained(engine)
    assert before[1], "the platform has progress to maintain"
    rebuild_progress(engine)
    assert maintained(engine) == before, step


def members_and_units(engine):
    query = select(users.c.username, groups.c.shortname).select_from(
        memberships.join(users, users.c.id == memberships.c.user_id).join(groups, groups.c.id == memberships.c.group_id)
    )
    pairs = [tuple(r) for r in rows(engine, query) if r[0] != "_anonimo"]
    codes = defaultdict(list)
    for shortname, code in rows(engine, select(groups.c.shortname, units.c.code).join(units)):
        codes[shortname].append(code)
    return pairs, codes


def import_file(engine, tmp_path, kind, text, **options):
    result = import_statistics(
        engine, ZONE, kind, io.BytesIO(text.encode()), f"{kind}.tsv", ImportOptions(**options), tmp_path / "imports"
    )
    assert result.refused is None
    return result


def sync(engine, settings, kind, text):
    path = settings.data_dir / f"{kind}.csv"
    path.write_text(text)
    return sync_file(engine, replace(settings, timezone=ZONE), kind, path, now=NOW, want_text=True)


def a_day(rng):
    day = rng.choice(QUERY_DAYS) + timedelta(days=rng.choice([-1, 0, 0, 1]))
    return f"{day:%Y/%m/%d}"


@pytest.mark.parametrize("seed", [2, 3])
def test_every_write_keeps_the_maintained_progress_equal_to_the_rule(engine, settings, tmp_path, seed):
    rng = random.Random(seed)
    build(engine, rng)
    checked = check(engine, rng, "built (the demo loader's path)")

    pairs, codes = members_and_units(engine)
    with_units = [(login, group) for login, group in pairs if codes[group]]
    outsiders = [(f"u{n:02d}", group) for n in range(25) for group in codes if codes[group]]
    assert len(with_units) >= 10 and len(pairs) >= 12, "the seed must draw a platform with enough to write"
    lines = []
    for login, group in rng.sample(with_units, min(30, len(with_units))) + rng.sample(outsiders, 5):
        lines.append(f"{login}\t{group}\t{rng.choice(codes[group])}\tL\t{rng.choice('CPFIN')}\t{a_day(rng)}\t50\n")
    for on_existing in ("new-session", "update"):
        import_file(
            engine,
            tmp_path,
            "lessons",
            LESSON_HEADER + "".join(rng.sample(lines, min(15, len(lines)))),
            on_existing=on_existing,
        )
        checked += check(engine, rng, f"lessons imported ({on_existing})")
    import_file(engine, tmp_path, "lessons", LESSON_HEADER + "".join(lines[-5:]), enrol=True)
    checked += check(engine, rng, "lessons imported with enrol")

    course_lines = [
        f"{login}\t{group}\t{rng.choice('NIC')}\t{a_day(rng)}\n"
        for login, group in rng.sample(pairs, min(12, len(pairs)))
    ]
    import_file(engine, tmp_path, "courses", COURSE_HEADER + "".join(course_lines), on_existing="update")
    checked += check(engine, rng, "course statuses imported")

    activity_lines = []
    for login, group in rng.sample(pairs, min(12, len(pairs))):
        at = end_of_day(rng.choice(QUERY_DAYS), ZONE) + timedelta(microseconds=rng.choice([0, 1]))
        activity_lines.append(f"{login}\t{group}\t\t{at.isoformat()}+00:00\n")
    import_file(engine, tmp_path, "activity", ACTIVITY_HEADER + "".join(activity_lines))
    checked += check(engine, rng, "activity imported")

    shortname = rng.choice(sorted(codes))
    toggled = sync(engine, settings, "courses", f"shortname;fullname;tracks_progress\n{shortname};x;0\n")
    assert toggled.counters.failed == 0
    checked += check(engine, rng, "a group stops tracking progress")

    group_with_units = rng.choice([g for g in sorted(codes) if codes[g]])
    dropped = sync(
        engine, settings, "lessons", f"crsvname;lsnvname;cmd\n{group_with_units};{codes[group_with_units][0]};del\n"
    )
    assert dropped.counters.removed == 1
    checked += check(engine, rng, "a unit deleted")

    login = rng.choice(sorted({login for login, _ in pairs}))
    gone = sync(engine, settings, "users", f"username;firstname;lastname;password;deleted\n{login};;;;1\n")
    assert gone.counters.removed == 1
    checked += check(engine, rng, "a user deleted")

    deleted_course = rng.choice(sorted(codes))
    sync(engine, settings, "deletecourses", f"{deleted_course}\n")
    checked += check(engine, rng, "a course deleted")
    assert checked > 300
