"""The SQL aggregate against the pure rule, on randomized platforms (SQLite and PostgreSQL)."""

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

import pytest

from aula_ws.domain.contract_dates import end_of_day, progress_window
from aula_ws.domain.progress import GroupShape, LearnerHistory, SessionRecord, avance
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from tests.builders import PlatformBuilder

ZONE = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2016, 6, 1)
START = datetime(2014, 1, 1)


class History(TypedDict):
    """One member's records, as the pure rule reads them."""

    sessions: list[SessionRecord]
    course: list[tuple[str, datetime]]
    activity: list[datetime]


# the days the queries name: events are drawn on their bounds too (the last instant of the day,
# exactly the query's instant, and one microsecond either side), and on NOW, the undated instant
QUERY_DAYS = [date(2014, 1, 1) + timedelta(days=n) for n in range(0, 900, 75)]


def random_moment(rng):
    if rng.random() < 0.35:
        bound = NOW if rng.random() < 0.25 else end_of_day(rng.choice(QUERY_DAYS), ZONE)
        return bound + timedelta(microseconds=rng.choice([0, 0, 0, -1, 1]))
    # whole days plus random seconds, so that many events fall near midnight boundaries
    return START + timedelta(
        days=rng.randint(0, 900), seconds=rng.choice([0, 1, 10799, 10800, 10801, rng.randint(0, 86399)])
    )


def build(engine, rng):
    b = PlatformBuilder(engine)
    logins = [f"u{n:02d}" for n in range(25)]
    histories: defaultdict[tuple[int, str], History] = defaultdict(
        lambda: {"sessions": [], "course": [], "activity": []}
    )
    group_ids = []
    for g in range(4):
        units = [f"L{n}" for n in range(rng.choice([0, 1, 3, 7]))]
        gid = b.group(f"g{g}", units=units, tracks_progress=rng.random() > 0.2)
        group_ids.append(gid)
        members = rng.sample(logins, rng.randint(5, 20))
        for login in members:
            b.member(login, gid, rng.choice("AAADTCI"))
        sessions = []
        for login in members:
            for _ in range(rng.randint(0, 12) if units else 0):
                record = (login, gid, rng.choice(units), rng.choice("CPFIN"), random_moment(rng))
                sessions.append(record)
                histories[gid, login]["sessions"].append(SessionRecord(record[2], record[3], record[4]))
            for _ in range(rng.choice([0, 0, 1, 2])):
                status, at = rng.choice("NIC"), random_moment(rng)
                b.course_status(login, gid, status, at)
                histories[gid, login]["course"].append((status, at))
            if rng.random() < 0.3:
                at = random_moment(rng)
                b.activity(login, gid, at)
                histories[gid, login]["activity"].append(at)
        # a session in the future never counts now
        if units and members and rng.random() < 0.5:
            sessions.append((members[0], gid, units[0], "C", NOW + timedelta(days=3)))
            histories[gid, members[0]]["sessions"].append(SessionRecord(units[0], "C", NOW + timedelta(days=3)))
        b.sessions(sessions)
    return b, group_ids, histories


def expected_avance(b, gid, login, histories, window):
    from aula_ws.store.platform import find_group
    from aula_ws.store.unit_of_work import UnitOfWork

    with UnitOfWork(b.engine) as uow:
        group = find_group(uow.connection, gid)
    assert group is not None
    shape = GroupShape(group.unit_count, group.tracks_progress)
    h = histories.get((gid, login), {"sessions": [], "course": [], "activity": []})
    history = LearnerHistory(tuple(h["sessions"]), tuple(h["course"]), tuple(h["activity"]))
    return avance(shape, window, lambda t: history.state_at(NOW if t is None else t))


def random_day(rng):
    near = rng.random() < 0.6
    day = rng.choice(QUERY_DAYS) if near else date(2013, 12, 1) + timedelta(days=rng.randint(0, 960))
    return day.isoformat().replace("-", rng.choice(["-", " "]))


def random_call(engine, rng, gid):
    """The group's answer for random dates (undated, one date, or two in order) and their window."""
    desde = rng.choice([None, random_day(rng)])
    hasta = rng.choice([None, random_day(rng)])
    if desde and hasta and desde.replace(" ", "-") > hasta.replace(" ", "-"):
        desde, hasta = hasta, desde
    query = ProgressQuery(str(gid), fecha_desde=desde, fecha_hasta=hasta)
    return (
        desde,
        hasta,
        progress_window(desde, hasta, ZONE),
        obtener_avance_usuarios(engine, ZONE, query, now=lambda: NOW),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_answers_equal_the_pure_rule(engine, seed):
    rng = random.Random(seed)
    b, group_ids, histories = build(engine, rng)
    checked = 0
    for _ in range(12):
        gid = rng.choice(group_ids)
        desde, hasta, window, rows = random_call(engine, rng, gid)
        assert rows, "every group has at least _anonimo"
        for row in rows:
            assert row.avance == expected_avance(b, gid, row.id_usuario, histories, window), (
                gid,
                row.id_usuario,
                desde,
                hasta,
            )
            checked += 1
        # one user's answer equals that user's row in the whole group's answer
        one = rng.choice(rows)
        single = obtener_avance_usuarios(
            engine,
            ZONE,
            ProgressQuery(str(gid), id_usuario=one.id_usuario, fecha_desde=desde, fecha_hasta=hasta),
            now=lambda: NOW,
        )
        assert single == [one]
    assert checked > 50
