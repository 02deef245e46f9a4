"""Migration 0006 (tool_sync drop-in) on a database that already holds data, SQLite and PostgreSQL:
nothing is lost (SQLite rebuilds the cohorts table, whose drop would cascade to its links)."""

from datetime import datetime

from sqlalchemy import select, text

from aula_ws.store.database import create_database_engine, upgrade
from aula_ws.store.tables import cohort_courses, cohort_members, cohorts, memberships, users


def test_upgrading_from_0005_keeps_cohorts_their_members_bindings_and_enrolments(empty_url):
    engine = create_database_engine(empty_url)
    upgrade(engine, "0005")
    at = datetime(2026, 1, 1)
    at_text = "2026-01-01 00:00:00"  # raw SQL: sqlite3's datetime adapter is deprecated on Python 3.12+
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (username, email, idnumber) VALUES ('ann', 'a@x.org', 'E1')"))
        connection.execute(
            text("INSERT INTO groups (id, shortname, created_at) VALUES (64, 'C1', :at)"), dict(at=at_text)
        )
        connection.execute(
            text("INSERT INTO cohorts (idnumber, name, description, created_at) VALUES ('K1', 'K', '', :at)"),
            dict(at=at_text),
        )
        connection.execute(
            text("INSERT INTO cohort_members SELECT c.id, u.id FROM cohorts c, users u WHERE u.username = 'ann'")
        )
        connection.execute(text("INSERT INTO cohort_courses SELECT id, 64, 'A' FROM cohorts"))
        connection.execute(
            text(
                "INSERT INTO memberships (user_id, group_id, perfil, fecha_alta, cohort_id)"
                " SELECT u.id, 64, 'A', '2026-01-01', c.id FROM users u, cohorts c WHERE u.username = 'ann'"
            )
        )
    upgrade(engine)
    with engine.begin() as connection:
        assert connection.execute(select(cohorts.c.idnumber, cohorts.c.name)).all() == [("K1", "K")]
        assert len(connection.execute(select(cohort_members)).all()) == 1
        assert connection.execute(select(cohort_courses.c.perfil, cohort_courses.c.makegroup)).all() == [("A", False)]
        assert len(connection.execute(select(memberships).where(memberships.c.cohort_id.is_not(None))).all()) == 1
        assert connection.execute(select(users.c.auth).where(users.c.username == "ann")).all() == [("manual",)]
        connection.execute(cohorts.insert().values(idnumber=None, name="By name", created_at=at))
        connection.execute(cohorts.insert().values(idnumber=None, name="Another", created_at=at))
    engine.dispose()
