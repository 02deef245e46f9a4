"""The statistics import against a real database (SQLite and PostgreSQL)."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from aula_ws.csvkit import batches
from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios
from aula_ws.services.statistics_import import ImportOptions, import_statistics
from aula_ws.store.tables import activity_log, course_statuses, lesson_sessions, memberships
from tests.builders import PlatformBuilder

UTC = ZoneInfo("UTC")
NOW = datetime(2016, 1, 1, 12)
LESSON_HEADER = "user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score\tlesson_time\tilt_status\n"


@pytest.fixture
def platform(engine):
    b = PlatformBuilder(engine)
    b.group("Comics", units=["U1", "U2", "U3", "U4"], group_id=7)
    b.member("demo", 7)
    b.member("ada", 7)
    b.user("outsider")
    return b


def run(engine, tmp_path, kind, content, encoding="utf-8", **options):
    data = content.encode(encoding) if isinstance(content, str) else content
    return import_statistics(
        engine,
        UTC,
        kind,
        io.BytesIO(data),
        f"{kind}.tsv",
        ImportOptions(encoding=encoding, **options),
        tmp_path / "imports",
        now=lambda: NOW,
    )


def count(engine, table):
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


def sessions(engine):
    with engine.connect() as connection:
        return connection.execute(
            select(
                lesson_sessions.c.status,
                lesson_sessions.c.status_date,
                lesson_sessions.c.score,
                lesson_sessions.c.time_spent,
            ).order_by(lesson_sessions.c.id)
        ).all()


def test_the_seed_example_line_is_stored(engine, tmp_path, platform):
    result = run(engine, tmp_path, "lessons", LESSON_HEADER + "demo\tComics\tU1\tL\tP\t22/03/2013\t90\t1800\t\n")
    assert (result.counters.processed, result.counters.added, result.counters.rejected) == (1, 1, 0)
    assert sessions(engine) == [("P", datetime(2013, 3, 22), 90.0, 1800)]
    assert result.rejects_path is None


def test_unknown_users_courses_and_lessons_and_non_members_are_rejected_with_line_numbers(engine, tmp_path, platform):
    content = (
        LESSON_HEADER
        + "nobody\tComics\tU1\tL\tP\t\t\t\t\n"
        + "demo\tNope\tU1\tL\tP\t\t\t\t\n"
        + "demo\tComics\tU9\tL\tP\t\t\t\t\n"
        + "outsider\tComics\tU1\tL\tP\t\t\t\t\n"
        + "ada\tComics\tU2\tL\tC\t\t\t\t\n"
    )
    result = run(engine, tmp_path, "lessons", content)
    c = result.counters
    assert (c.processed, c.rejected, c.added, c.errors) == (5, 4, 1, 4)
    journal = result.journal
    assert 'line 2: error: unknown user "nobody"' in journal
    assert 'line 3: error: unknown course (crsvname) "Nope"' in journal
    assert 'line 4: error: unknown lesson (lsnvname) "U9" in course "Comics"' in journal
    assert 'line 5: error: "outsider" is not enrolled in "Comics"' in journal
    assert sessions(engine)[0][1] == NOW  # an empty status date means the time of the import
    assert result.rejects_path.read_text() == LESSON_HEADER + "".join(content.splitlines(True)[1:5])


def test_enrol_makes_non_members_students_from_the_status_date(engine, tmp_path, platform):
    result = run(
        engine, tmp_path, "lessons", LESSON_HEADER + "outsider\tComics\tU1\tL\tI\t2015/02/01\t\t\t\n", enrol=True
    )
    assert result.counters.added == 1
    with engine.connect() as connection:
        row = connection.execute(
            select(memberships.c.perfil, memberships.c.fecha_alta).where(
                memberships.c.user_id == platform.user_ids["outsider"]
            )
        ).one()
    assert tuple(row) == ("A", date(2015, 2, 1))


@pytest.mark.parametrize("course_limit", [0, 3])
@pytest.mark.parametrize("kind", ["lessons", "courses"])
def test_courses_read_whole_or_batch_by_batch_import_alike(engine, tmp_path, platform, monkeypatch, kind, course_limit):
    """The name cache reads a course's members and units whole when it has room (Comics: 2 members)
    and looks names up batch by batch otherwise (limit 0), emptying itself when full (limit 3):
    the same file gives the same report and rows either way, enrolments of earlier batches seen."""
    from aula_ws.services import statistics_import

    platform.group("Other", units=["U1"], group_id=8)
    platform.member("outsider", 8)
    for n in range(4):
        platform.member(f"m{n}", 8)
    names = [
        ("demo", "Comics", "U1"), ("outsider", "Comics", "U2"), ("nobody", "Comics", "U1"), ("m0", "Other", "U1"),
        ("outsider", "Comics", "U3"), ("ada", "Comics", "U9"), ("m1", "Other", "U1"), ("demo", "Other", "U1"),
        ("m2", "Other", "U2"), ("outsider", "Other", "U1"), ("ada", "Nope", "U1"), ("m3", "Comics", "U1"),
    ]  # fmt: skip
    if kind == "lessons":
        header = LESSON_HEADER
        content = "".join(
            f"{login}\t{group}\t{unit}\tL\tP\t2015/01/0{n % 9 + 1}\t\t\t\n"
            for n, (login, group, unit) in enumerate(names)
        )
    else:
        header = "user_loginid\tcrsvname\tcourse_status\tcourse_status_date\n"
        content = "".join(f"{login}\t{group}\tI\t2015/01/0{n % 9 + 1}\n" for n, (login, group, _) in enumerate(names))

    def outcome(limit):
        monkeypatch.setattr(statistics_import._NameCache, "limit", limit)
        result = run(engine, tmp_path / str(limit), kind, header + content, enrol=True, dry_run=True)
        journal = result.journal.split("\n", 1)[1]  # after the line naming the journal's own file
        return result.counters, journal, result.rejects_path.read_text()

    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    expected = outcome(statistics_import._NameCache.limit)
    assert (expected[0].added, expected[0].rejected) == {"lessons": (8, 4), "courses": (10, 2)}[kind]
    assert outcome(course_limit) == expected


LINE = "demo\tComics\tU1\tL\t{status}\t2015/0{month}/01\t{score}\t\t\n"


def test_new_session_keeps_history(engine, tmp_path, platform):
    run(engine, tmp_path, "lessons", LESSON_HEADER + LINE.format(status="F", month=1, score=40))
    result = run(engine, tmp_path, "lessons", LESSON_HEADER + LINE.format(status="P", month=2, score=80))
    assert result.counters.added == 1 and len(sessions(engine)) == 2


def test_reject_refuses_a_line_whose_status_exists_so_a_second_import_adds_nothing(engine, tmp_path, platform):
    content = LESSON_HEADER + LINE.format(status="F", month=1, score=40) + "ada\tComics\tU1\tL\tP\t\t\t\t\n"
    first = run(engine, tmp_path, "lessons", content, on_existing="reject")
    second = run(engine, tmp_path, "lessons", content, on_existing="reject")
    assert (first.counters.added, second.counters.added, second.counters.rejected) == (2, 0, 2)
    assert "a status already exists for this user and lesson" in second.journal
    assert len(sessions(engine)) == 2


def test_update_overwrites_the_latest_session(engine, tmp_path, platform):
    run(
        engine,
        tmp_path,
        "lessons",
        LESSON_HEADER + LINE.format(status="F", month=1, score=40) + LINE.format(status="I", month=3, score=50),
    )
    result = run(
        engine, tmp_path, "lessons", LESSON_HEADER + LINE.format(status="P", month=2, score=95), on_existing="update"
    )
    assert (result.counters.added, result.counters.updated) == (0, 1)
    assert sessions(engine) == [("F", datetime(2015, 1, 1), 40, None), ("P", datetime(2015, 2, 1), 95, None)]


def test_policies_apply_between_lines_of_one_file_and_across_batches(engine, tmp_path, platform, monkeypatch):
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    content = LESSON_HEADER + "".join(
        LINE.format(status=s, month=m, score=10 * m) for s, m in [("F", 1), ("I", 2), ("P", 3), ("C", 4), ("F", 5)]
    )
    result = run(engine, tmp_path, "lessons", content, on_existing="reject")
    assert (result.counters.added, result.counters.rejected) == (1, 4)
    result = run(engine, tmp_path, "lessons", content, on_existing="update")
    assert (result.counters.added, result.counters.updated) == (0, 5)
    assert sessions(engine) == [("F", datetime(2015, 5, 1), 50, None)]


def test_dry_run_reports_everything_and_writes_nothing(engine, tmp_path, platform):
    content = LESSON_HEADER + LINE.format(status="P", month=1, score=90) + "nobody\tComics\tU1\tL\tP\t\t\t\t\n"
    dry = run(engine, tmp_path, "lessons", content, dry_run=True, enrol=True)
    assert (dry.counters.added, dry.counters.rejected) == (1, 1)
    assert count(engine, lesson_sessions) == 0
    real = run(engine, tmp_path, "lessons", content, enrol=True)
    assert real.counters == dry.counters


def test_a_database_failure_mid_file_stores_nothing_and_the_file_can_be_imported_again(
    engine, tmp_path, platform, monkeypatch
):
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    ada = platform.user_ids["ada"]
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    f"CREATE TRIGGER boom BEFORE INSERT ON lesson_sessions WHEN NEW.user_id = {ada} "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.user_id = "
                    f"{ada} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text("CREATE TRIGGER boom BEFORE INSERT ON lesson_sessions FOR EACH ROW EXECUTE FUNCTION boom()")
            )
    content = (
        LESSON_HEADER
        + "".join(f"demo\tComics\tU{n}\tL\tP\t\t\t\t\n" for n in (1, 2, 3))
        + "ada\tComics\tU1\tL\tP\t\t\t\t\n"
    )
    with pytest.raises(Exception, match="injected failure"):
        run(engine, tmp_path, "lessons", content, enrol=True)
    assert count(engine, lesson_sessions) == 0
    with engine.begin() as connection:
        connection.execute(
            text("DROP TRIGGER boom" + (" ON lesson_sessions" if engine.dialect.name != "sqlite" else ""))
        )
    assert run(engine, tmp_path, "lessons", content).counters.added == 4


def test_invalid_bytes_refuse_the_whole_file_naming_the_line(engine, tmp_path, platform):
    content = (
        LESSON_HEADER + LINE.format(status="P", month=1, score=90)
    ).encode() + b"d\xe9mo\tComics\tU1\tL\tP\t\t\t\t\n"
    result = run(engine, tmp_path, "lessons", content)
    assert result.refused == "line 3 is not valid utf-8 (byte 2 of the line)"
    assert count(engine, lesson_sessions) == 0 and result.counters.added == 0


def test_a_named_encoding_is_read(engine, tmp_path, platform):
    platform.group("Cómics", units=["Lección"])
    platform.member("demo", platform.group("x"))
    content = LESSON_HEADER + "demo\tCómics\tLección\tL\tP\t\t\t\t\n"
    result = run(engine, tmp_path, "lessons", content, encoding="latin-1", enrol=True)
    assert result.counters.added == 1


def test_the_rejects_file_fixed_imports_cleanly(engine, tmp_path, platform):
    content = LESSON_HEADER + "nobody\tComics\tU1\tL\tP\t\t\t\t\n" + "ada\tComics\tU3\tL\tC\t\t\t\t\n"
    first = run(engine, tmp_path, "lessons", content)
    platform.member("nobody", 7)
    second = run(engine, tmp_path, "lessons", first.rejects_path.read_bytes())
    assert (second.counters.processed, second.counters.added, second.counters.rejected) == (1, 1, 0)


def test_without_a_header_columns_are_positional_and_comma_or_semicolon_separated(engine, tmp_path, platform):
    result = run(engine, tmp_path, "lessons", "demo,Comics,U1,L,C,2015-05-05,70,60,\n", header=False)
    assert result.counters.added == 1


def test_an_unknown_column_is_a_warning(engine, tmp_path, platform):
    result = run(
        engine,
        tmp_path,
        "lessons",
        LESSON_HEADER.replace("ilt_status", "ilt_status\tcolour") + "demo\tComics\tU1\tL\tP\t\t\t\t\tred\n",
    )
    assert (result.counters.added, result.counters.warnings) == (1, 1)
    assert 'line 1: warning: unknown column "colour" ignored' in result.journal


def test_a_header_missing_a_required_column_refuses_the_file(engine, tmp_path, platform):
    result = run(engine, tmp_path, "courses", "user_loginid;crsvname\ndemo;Comics\n")
    assert "course_status" in result.refused


def test_course_statuses_follow_the_policies_and_enrol_from_the_enrolment_date(engine, tmp_path, platform):
    header = "user_loginid;crsvname;course_status;course_status_date;course_enrollement_date\n"
    result = run(engine, tmp_path, "courses", header + "outsider;Comics;C;2015/06/01;2015/01/10\n", enrol=True)
    assert result.counters.added == 1
    with engine.connect() as connection:
        assert connection.scalar(
            select(memberships.c.fecha_alta).where(memberships.c.user_id == platform.user_ids["outsider"])
        ) == date(2015, 1, 10)
    again = run(engine, tmp_path, "courses", header + "outsider;Comics;I;2015/07/01;\n", on_existing="reject")
    assert again.counters.rejected == 1 and "user and course" in again.journal
    rows = obtener_avance_usuarios(engine, UTC, ProgressQuery("7", id_usuario="outsider"), now=lambda: NOW)
    assert rows[0].avance == 100


def test_activity_is_appended_and_exact_duplicates_are_skipped_with_a_warning(engine, tmp_path, platform):
    content = (
        "user_loginid,crsvname,lsnvname,time,action\n"
        "demo,Comics,U1,2015-03-01T10:00:00,viewed\n"
        "demo,Comics,,1425204000,loggedin\n"
        "demo,Comics,U1,2015-03-01T10:00:00,viewed\n"
        "demo,Comics,U1,2015-03-01T10:00:00,submitted\n"
        "demo,Comics,U7,2015-03-01T10:00:00,viewed\n"
    )
    first = run(engine, tmp_path, "activity", content)
    assert (first.counters.added, first.counters.warnings, first.counters.rejected) == (3, 1, 1)
    second = run(engine, tmp_path, "activity", content)
    assert (second.counters.added, second.counters.warnings) == (0, 4)
    assert count(engine, activity_log) == 3


def test_imported_statuses_move_avance(engine, tmp_path, platform):
    content = LESSON_HEADER + "".join(f"ada\tComics\tU{n}\tL\tC\t2015/05/0{n}\t\t\t\n" for n in (1, 2, 3))
    run(engine, tmp_path, "lessons", content)
    rows = obtener_avance_usuarios(
        engine, UTC, ProgressQuery("7", id_usuario="ada", fecha_desde="2015-05-02"), now=lambda: NOW
    )
    assert rows[0].avance == 50
    assert count(engine, course_statuses) == 0


def index_names(engine):
    from sqlalchemy import inspect

    return sorted(index["name"] for index in inspect(engine).get_indexes("lesson_sessions"))


@pytest.mark.parametrize("on_existing", ["new-session", "update"])
def test_a_large_load_commits_with_its_indexes_built_again(engine, tmp_path, platform, monkeypatch, on_existing):
    """The indexes dropped for a large load are built inside its transaction, before the commit:
    a crash after the commit cannot leave the table without them."""
    from sqlalchemy import inspect

    from aula_ws.store import statistics
    from aula_ws.store.unit_of_work import UnitOfWork

    monkeypatch.setattr(statistics, "LARGE_LOAD_LINES", 0)
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    before = index_names(engine)
    at_commit = []
    commit = UnitOfWork.commit

    def spying(uow):
        at_commit.append(sorted(index["name"] for index in inspect(uow.connection).get_indexes("lesson_sessions")))
        commit(uow)

    monkeypatch.setattr(UnitOfWork, "commit", spying)
    content = LESSON_HEADER + "".join(f"demo\tComics\tU{n}\tL\tP\t2015/01/0{n}\t\t\t\n" for n in (1, 2, 3))
    assert run(engine, tmp_path, "lessons", content, on_existing=on_existing).counters.added == 3
    assert at_commit == [before] and index_names(engine) == before


@pytest.mark.parametrize("fails", [False, True])
def test_a_large_load_builds_the_indexes_after_it_and_a_failed_one_keeps_them(
    engine, tmp_path, platform, monkeypatch, fails
):
    from aula_ws.store import statistics

    monkeypatch.setattr(statistics, "LARGE_LOAD_LINES", 0)  # this small file takes the large files' path
    monkeypatch.setattr(batches, "BATCH_SIZE", 2)
    before = index_names(engine)
    assert "ix_lesson_sessions_unit_user" in before and "ix_lesson_sessions_status_date_id" in before
    content = LESSON_HEADER + "".join(f"demo\tComics\tU{n}\tL\tP\t2015/01/0{n}\t\t\t\n" for n in (1, 2, 3))
    if fails:
        monkeypatch.setattr(statistics, "update_lesson_sessions", _boom)
        with pytest.raises(RuntimeError, match="injected"):
            run(engine, tmp_path, "lessons", content)
        assert count(engine, lesson_sessions) == 0
    else:
        assert run(engine, tmp_path, "lessons", content).counters.added == 3
        assert count(engine, lesson_sessions) == 3
        [row] = obtener_avance_usuarios(engine, UTC, ProgressQuery("7", id_usuario="demo"), now=lambda: NOW)
        assert row.avance == 75
    assert index_names(engine) == before
    _assert_status_checked(engine)


def _assert_status_checked(engine):
    """The CHECK and the foreign keys the large load skips are in force again on the connection
    it used (the pool's)."""
    from sqlalchemy.exc import IntegrityError

    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA threads").scalar() == 0  # the index builds' helpers
        user_id, unit_id = connection.exec_driver_sql("SELECT u.id, n.id FROM users u, units n LIMIT 1").one()
        with pytest.raises(IntegrityError):
            connection.execute(
                lesson_sessions.insert().values(user_id=user_id, unit_id=unit_id, status="Z", status_date=NOW)
            )


def _boom(connection, updates):
    raise RuntimeError("injected")


def test_an_import_runs_with_fewer_collections_and_puts_the_threshold_back(engine, tmp_path, platform, monkeypatch):
    import gc

    from aula_ws.csvkit.batches import LOADING_GC_THRESHOLD
    from aula_ws.store import statistics

    seen = []
    insert = statistics.insert_lesson_sessions

    def spying(connection, rows):
        seen.append(gc.get_threshold())
        insert(connection, rows)

    monkeypatch.setattr(statistics, "insert_lesson_sessions", spying)
    before = gc.get_threshold()
    assert run(engine, tmp_path, "lessons", LESSON_HEADER + LINE.format(status="P", month=1, score=1)).counters.added
    assert seen == [LOADING_GC_THRESHOLD] and gc.get_threshold() == before


@pytest.mark.parametrize("courses", [["Comics"], ["Comics", "Other"]])
def test_a_whole_course_refresh_equals_a_rebuild(engine, tmp_path, platform, monkeypatch, courses):
    """A large file refreshes whole courses (one course: its units listed, its id a constant; more:
    through the join): the maintained progress is what `progress rebuild` writes."""
    from aula_ws.services import statistics_import
    from aula_ws.services.progress import rebuild_progress
    from aula_ws.store.tables import member_progress, unit_progress

    monkeypatch.setattr(statistics_import, "WHOLE_GROUP_REFRESH", 0)
    platform.group("Other", units=["U1", "U2"], group_id=8)
    platform.member("demo", 8)
    platform.member("ada", 8)
    run(engine, tmp_path / "before", "lessons", LESSON_HEADER + "ada\tComics\tU3\tL\tC\t2015/01/02\t\t\t\n")
    content = "".join(
        f"{login}\t{course}\tU{unit}\tL\t{status}\t2015/0{unit}/0{day}\t\t\t\n"
        for course in courses
        for login in ("demo", "ada")
        for unit, status, day in ((1, "C", 3), (2, "I", 4), (1, "P", 1), (2, "C", 9))
    )
    assert run(engine, tmp_path / "file", "lessons", LESSON_HEADER + content).counters.added == 8 * len(courses)

    def maintained():
        with engine.connect() as connection:
            return [
                sorted(map(tuple, connection.execute(select(table)).all()))
                for table in (unit_progress, member_progress)
            ]

    imported = maintained()
    assert len(imported[0]) == 2 * 2 * len(courses) + 1  # (user, unit) pairs, ada's U3 of before kept
    rebuild_progress(engine)
    assert maintained() == imported
