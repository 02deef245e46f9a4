"""The platform of bench/avance.py: one group of `members` users (mostly perfil A),
a few million lesson sessions, some course statuses and activity-log rows."""

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from aula_ws.store import platform, progress
from aula_ws.store.tables import activity_log, course_statuses, lesson_sessions, memberships, users
from common.platform import analyze, bulk_load, empty_database, next_user_id, users_loaded

SEED = 20261125
GROUP_SHORTNAME = "bench-avance"
PERFILES = ["A"] * 18 + ["D", "T"]  # 90% learners
SESSION_STATUSES = "CCCCCCCPPPFFFIIIIINN"  # C 35%, P 15%, F 15%, I 25%, N 10%
NAME_STEMS = ["garcia", "lopez", "martin", "sosa", "rossi", "silva", "perez", "gomez", "diaz", "ruiz"]


@dataclass(frozen=True)
class Platform:
    engine: Engine
    group_id: int
    unit_count: int
    logins: list[str]
    first_user_id: int  # logins[n] has id first_user_id + n
    start: datetime  # the two years of history begin here
    row_counts: dict[str, int]
    build_seconds: float  # ANALYZE included


def build(url: str, members: int, unit_count: int, now: datetime, drop_existing: bool) -> Platform:
    began = time.perf_counter()
    engine = empty_database(url, "avance.py", drop_existing)
    rng = random.Random(SEED)
    start = (now - timedelta(days=730)).replace(microsecond=0)
    span = int((now - timedelta(days=1) - start).total_seconds())

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(span))

    counts: dict[str, int] = {}
    with engine.begin() as connection:
        group_id = platform.add_group(connection, GROUP_SHORTNAME, start, fullname="Benchmark")
        unit_ids = [
            platform.add_unit(connection, group_id, f"U{n:02d}", "LAWTE"[n % 5], position=n)
            for n in range(1, unit_count + 1)
        ]
        first_id = next_user_id(connection)
        user_ids = range(first_id, first_id + members)
        logins = [f"{rng.choice(NAME_STEMS)}.{n}" for n in range(members)]
        perfiles = [rng.choice(PERFILES) for _ in user_ids]
        learners = [u for u, perfil in zip(user_ids, perfiles, strict=True) if perfil == "A"]

        def user_rows() -> Iterator[tuple[Any, ...]]:
            for user_id, login in zip(user_ids, logins, strict=True):
                yield user_id, login, login.split(".")[0].title(), f"{login}@example.org"

        def membership_rows() -> Iterator[tuple[Any, ...]]:
            for user_id, perfil in zip(user_ids, perfiles, strict=True):
                fecha_alta: date = (start + timedelta(days=rng.randrange(200))).date()
                yield (user_id, group_id, perfil, perfil == "T", perfil == "D", rng.random() > 0.03, fecha_alta)

        def session_rows() -> Iterator[tuple[Any, ...]]:
            for user_id in learners:
                engagement = rng.random() ** 0.25  # share of the units this learner touches (mean 0.8)
                for unit_id in unit_ids:
                    if rng.random() < engagement:
                        for _ in range(1 + (rng.random() < 0.5)):  # 1 or 2 sessions
                            status = SESSION_STATUSES[rng.randrange(20)]
                            yield (user_id, unit_id, status, moment(), rng.randrange(101), rng.randrange(60, 5400))

        def course_status_rows() -> Iterator[tuple[Any, ...]]:
            for user_id in learners:
                if rng.random() < 0.15:
                    started = start + timedelta(seconds=rng.randrange(span // 2))
                    yield user_id, group_id, "I", started
                    if rng.random() < 0.5:
                        yield user_id, group_id, "C", started + timedelta(seconds=rng.randrange(span // 2))

        def activity_rows() -> Iterator[tuple[Any, ...]]:
            for user_id in user_ids:
                for _ in range(rng.randrange(5)):
                    unit = rng.choice(unit_ids) if unit_ids else None
                    yield user_id, group_id, unit, moment(), "viewed"

        counts["users"] = bulk_load(connection, users, ("id", "username", "firstname", "email"), user_rows())
        users_loaded(connection)
        counts["memberships"] = bulk_load(
            connection,
            memberships,
            ("user_id", "group_id", "perfil", "administrador_grupo", "responsable_grupo", "estado", "fecha_alta"),
            membership_rows(),
        )
        counts["lesson_sessions"] = bulk_load(
            connection,
            lesson_sessions,
            ("user_id", "unit_id", "status", "status_date", "score", "time_spent"),
            session_rows(),
        )
        counts["course_statuses"] = bulk_load(
            connection, course_statuses, ("user_id", "group_id", "status", "status_date"), course_status_rows()
        )
        counts["activity_log"] = bulk_load(
            connection, activity_log, ("user_id", "group_id", "unit_id", "time", "action"), activity_rows()
        )
        # rows loaded past the store's writers: the maintained progress as `aula-ws progress rebuild` makes it
        refreshed = time.perf_counter()
        progress.refresh(connection)
        print(f"  maintained progress rebuilt      {time.perf_counter() - refreshed:6.1f} s", flush=True)
    analyze(engine)
    return Platform(engine, group_id, unit_count, logins, first_id, start, counts, time.perf_counter() - began)
