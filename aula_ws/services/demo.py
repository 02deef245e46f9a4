"""Use case: the demo platform `aula-ws serve --demo` creates, so a newcomer sees real answers.

Deterministic (seeded): group 64 is the contract's example (lovecraft, enrolled
2015-06-17); a large group; a group that does not track progress; a group
without units. Sessions, course statuses and activity spread over two years;
the activity is what a platform logs (a login, several events, a logout per
visit), with visits in the last weeks up to today. The users the README's
examples name: `admin` (a site admin), `ana` (a teacher of group 64, to be made
site admin) and `bi-robot` (a data-warehouse account, for ETL tokens).
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from aula_ws.store import platform
from aula_ws.store.unit_of_work import UnitOfWork

DEMO_MARKER = "demo-literatura-fantastica"

FIRST_NAMES = ["Howard", "Clark", "Ursula", "Jorge", "Silvina", "Adolfo", "Mary", "Julio", "Ana", "Italo"]
LAST_NAMES = ["Lovecraft", "Ashton", "Le Guin", "Borges", "Ocampo", "Bioy", "Shelley", "Cortázar", "Blum", "Calvino"]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    groups: dict[int, str]
    users: int
    sessions: int


@dataclass(frozen=True)
class _GroupPlan:
    group_id: int
    shortname: str
    fullname: str
    tracks_progress: bool
    unit_count: int
    member_count: int


PLANS = [
    _GroupPlan(64, DEMO_MARKER, "Literatura fantástica: Lovecraft y sus contemporáneos", True, 5, 40),
    _GroupPlan(65, "demo-programacion-python", "Programación en Python (cohorte grande)", True, 12, 300),
    _GroupPlan(66, "demo-induccion", "Inducción institucional (no registra avance)", False, 3, 80),
    _GroupPlan(67, "demo-foro-docentes", "Foro de docentes (sin unidades)", True, 0, 25),
]
PERFILES = ["A"] * 16 + ["D", "T", "C", "I"]


def create_demo_platform(engine: Engine, now: datetime, seed: int = 1975) -> DemoSummary:
    """Create the demo data once; a second call changes nothing."""
    rng = random.Random(seed)
    start = now - timedelta(days=730)
    with UnitOfWork(engine) as uow:
        connection = uow.connection
        if platform.find_group(connection, PLANS[0].group_id) is not None:
            return DemoSummary(False, {p.group_id: p.shortname for p in PLANS}, 0, 0)
        user_ids = _create_users(connection, rng)
        visits = random.Random(seed + 1)  # the activity's own: the sessions' sequence stays as it was
        lovecraft = user_ids[0]
        sessions = 0
        for plan in PLANS:
            created_at = datetime(2015, 6, 1) if plan.group_id == 64 else start
            platform.add_group(
                connection,
                plan.shortname,
                created_at,
                group_id=plan.group_id,
                fullname=plan.fullname,
                tracks_progress=plan.tracks_progress,
            )
            unit_ids = [
                platform.add_unit(
                    connection, plan.group_id, f"U{n:02d}", "LAWTE"[n % 5], name=f"Unidad {n}", position=n
                )
                for n in range(1, plan.unit_count + 1)
            ]
            members = rng.sample(user_ids[1:], plan.member_count - 1)
            if plan.group_id in (64, 65):
                members.insert(0, lovecraft)
            sessions += _populate_group(connection, rng, plan, unit_ids, members, lovecraft, start, now)
            _add_visits(connection, visits, plan.group_id, unit_ids, members, now)
        _create_named_users(connection)
        uow.commit()
    return DemoSummary(True, {p.group_id: p.shortname for p in PLANS}, len(user_ids), sessions)


def _create_named_users(connection) -> None:  # type: ignore[no-untyped-def]
    """The README's users: an admin, a teacher of group 64, an ETL account (none in the sampled members)."""
    platform.add_user(
        connection, "admin", firstname="Site", lastname="Admin", email="admin@example.org", site_admin=True
    )
    ana = platform.add_user(connection, "ana", firstname="Ana", lastname="Ocampo", email="ana@example.org")
    platform.add_rows(
        connection,
        "memberships",
        [dict(user_id=ana, group_id=64, perfil="D", responsable_grupo=True, estado=True, fecha_alta=date(2015, 6, 1))],
    )
    platform.add_user(connection, "bi-robot", firstname="BI", lastname="Robot", email="bi-robot@example.org")


def _add_visits(connection, rng: random.Random, group_id: int, unit_ids, members, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Visits of the last six weeks up to today: each a login, a few minutes of events, a logout."""
    rows = []
    for user_id in members:
        for _ in range(rng.randint(0, 3)):
            moment = now - timedelta(days=rng.uniform(0, 42), minutes=90)
            rows.append(dict(user_id=user_id, group_id=group_id, unit_id=None, time=moment, action="loggedin"))
            for _ in range(rng.randint(2, 6)):
                moment += timedelta(seconds=rng.randint(30, 900))
                unit_id = rng.choice(unit_ids) if unit_ids else None
                rows.append(dict(user_id=user_id, group_id=group_id, unit_id=unit_id, time=moment, action="viewed"))
            moment += timedelta(seconds=rng.randint(10, 300))
            rows.append(dict(user_id=user_id, group_id=group_id, unit_id=None, time=moment, action="loggedout"))
    platform.add_rows(connection, "activity_log", rows)


def _create_users(connection, rng: random.Random) -> list[int]:  # type: ignore[no-untyped-def]
    ids = [
        platform.add_user(
            connection, "lovecraft", firstname="Howard Phillips", lastname="Lovecraft", email="lovecraft@example.org"
        )
    ]
    for n in range(1, 400):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        login = f"{first[0]}{last.split()[0]}{n}".lower().replace("á", "a")
        ids.append(
            platform.add_user(
                connection, login, firstname=first, lastname=last, email=f"{login}@example.org", suspended=(n % 97 == 0)
            )
        )
    return ids


def _populate_group(connection, rng, plan, unit_ids, members, lovecraft, start, now) -> int:  # type: ignore[no-untyped-def]
    span = (now - start).total_seconds()
    memberships, sessions, course_statuses, activity = [], [], [], []
    for user_id in members:
        is_lovecraft = user_id == lovecraft and plan.group_id == 64
        perfil = "A" if is_lovecraft else rng.choice(PERFILES)
        memberships.append(
            dict(
                user_id=user_id,
                group_id=plan.group_id,
                perfil=perfil,
                administrador_grupo=perfil == "C",
                responsable_grupo=perfil == "D",
                estado=rng.random() > 0.05,
                fecha_alta=date(2015, 6, 17) if is_lovecraft else (start + timedelta(days=rng.randint(0, 200))).date(),
            )
        )
        if perfil != "A":
            continue
        # lovecraft completes 1 unit of 5 in group 64: avance 20, as in the contract's example
        done = 1 if is_lovecraft else rng.randint(0, len(unit_ids))
        moment = start + timedelta(seconds=rng.uniform(0, span / 2))
        for position, unit_id in enumerate(unit_ids):
            moment += timedelta(hours=rng.uniform(1, 24 * 20))
            moment = min(moment, now - timedelta(minutes=1))
            status = "P" if position < done else rng.choice("FIN")
            sessions.append(
                dict(
                    user_id=user_id,
                    unit_id=unit_id,
                    status=status,
                    status_date=moment,
                    score=rng.randint(40, 100),
                    time_spent=rng.randint(60, 5400),
                )
            )
            activity.append(
                dict(user_id=user_id, group_id=plan.group_id, unit_id=unit_id, time=moment, action="viewed")
            )
            if position >= done:
                break
        if not unit_ids or rng.random() < 0.1:
            course_statuses.append(
                dict(
                    user_id=user_id,
                    group_id=plan.group_id,
                    status="C" if rng.random() < 0.5 else "I",
                    status_date=start + timedelta(seconds=rng.uniform(0, span)),
                )
            )
    platform.add_rows(connection, "memberships", memberships)
    platform.add_rows(connection, "lesson_sessions", sessions)
    platform.add_rows(connection, "course_statuses", course_statuses)
    platform.add_rows(connection, "activity_log", activity)
    return len(sessions)
