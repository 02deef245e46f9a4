"""A known platform for use_stats: two courses, their units, activity, imported lesson time, scores.

lovecraft's timeline (threshold 60 min, last-ping credit 15 min), hours after START:
    0:00 lit/U1   -> 0:10   10 min  lit, U1
    0:10 lit/U1   -> 0:30   20 min  lit, U1
    0:30 lit      -> 0:40   10 min  lit
    0:40 math     -> 3:00   long gap: 15 min  math
    3:00 lit/U2   last      15 min  lit, U2
plus 600 s of imported lesson time in lit/U2 (dated 1:00).
    lit 55 + 10 = 65 min (U1 30, U2 15 + 10 = 25), math 15 min, site 80 min.
Scores: lit/U1 best 90 (of 70, 90), lit/U2 80 -> 85.00; math none.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from aula_ws.store import platform
from aula_ws.store.unit_of_work import UnitOfWork
from tests.builders import PlatformBuilder
from tests.mnet_peer import MOODLE

START = datetime(2026, 3, 2, 9, 0)
NOW = START + timedelta(days=1)
LIT_NAME = "Literatura & <Arte>"


def build_usage_platform(engine: Engine, start: datetime = START, home: str | None = MOODLE) -> PlatformBuilder:
    """The platform; its users come from `home` (MNET users of that peer; None: local users)."""
    b = PlatformBuilder(engine)
    b.user("lovecraft", firstname="Howard", lastname="Lovecraft", mnethost=home)
    b.user("borges", firstname="Jorge Luis", lastname="Borges", mnethost=home)
    b.user("ashton", firstname="Clark", lastname="Ashton", mnethost=home)
    b.user("root", site_admin=True, mnethost=home)
    lit = b.group("lit", fullname=LIT_NAME, idnumber="LIT-1", group_id=64)
    math = b.group("math", fullname="Matemática", idnumber="MAT-1", group_id=65)
    with UnitOfWork(engine) as uow:
        for code, name, type_, position in [("U1", "Unidad 1", "L", 1), ("U2", "Tarea 2", "A", 2)]:
            b.unit_ids[lit, code] = platform.add_unit(uow.connection, lit, code, type_, name=name, position=position)
        b.unit_ids[math, "M1"] = platform.add_unit(uow.connection, math, "M1", "L", name="Álgebra")
        uow.commit()
    b.member("lovecraft", lit, "A")
    b.member("lovecraft", math, "A")
    b.member("borges", lit, "D", fecha_alta=date(2015, 6, 1))  # teacher of lit only
    b.member("ashton", lit, "A")  # a fellow student
    for minutes, group, unit in [(0, lit, "U1"), (10, lit, "U1"), (30, lit, None), (40, math, None), (180, lit, "U2")]:
        b.activity("lovecraft", group, start + timedelta(minutes=minutes), unit)
    uid, units = b.user_ids["lovecraft"], b.unit_ids
    with UnitOfWork(engine) as uow:
        platform.add_rows(
            uow.connection,
            "lesson_sessions",
            [
                dict(user_id=uid, unit_id=units[lit, "U1"], status="F", status_date=start, score=70, time_spent=None),
                dict(user_id=uid, unit_id=units[lit, "U1"], status="P", status_date=start, score=90, time_spent=None),
                dict(
                    user_id=uid,
                    unit_id=units[lit, "U2"],
                    status="C",
                    score=80,
                    time_spent=600,
                    status_date=start + timedelta(hours=1),
                ),
            ],
        )
        uow.commit()
    return b
