"""Every sync file kind and command, on SQLite and PostgreSQL: what is stored, reported and tried back."""

from dataclasses import replace
from datetime import date, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from aula_ws.config_sync import SyncSettings
from aula_ws.services.sync import sync_file
from aula_ws.store import sync as store
from aula_ws.store.tables import (
    cohort_courses,
    cohort_members,
    cohorts,
    course_group_members,
    course_groups,
    groups,
    memberships,
    units,
    users,
)
from tests.builders import PlatformBuilder

NOW = datetime(2026, 3, 10, 12, 0)
# cohorts files naming users by username and courses by shortname (tool_sync's defaults: idnumber)
BY_USERNAME = dict(cohorts_useridentifier="username", cohorts_courseidentifier="shortname")


def run(engine, settings, kind, text, name=None, simulate=False, file_encoding="utf-8", **sync):
    if sync:
        settings = replace(settings, sync=replace(settings.sync, **sync))
    path = settings.data_dir / (name or f"{kind}.csv")
    path.write_bytes(text.encode(file_encoding))
    return sync_file(engine, settings, kind, path, simulate=simulate, now=NOW, want_text=True)


def rows(engine, query):
    with engine.connect() as connection:
        return connection.execute(query).all()


def members(engine, shortname):
    query = (
        select(users.c.username, memberships.c.perfil, memberships.c.estado)
        .join(memberships, memberships.c.user_id == users.c.id)
        .join(groups, groups.c.id == memberships.c.group_id)
        .where(groups.c.shortname == shortname, users.c.username != "_anonimo")
        .order_by(users.c.username)
    )
    return [tuple(r) for r in rows(engine, query)]


@pytest.fixture
def platform(engine):
    builder = PlatformBuilder(engine)
    builder.group("C1", group_id=64)
    builder.group("C2", group_id=65, idnumber="IDC2")
    return builder


def test_users_are_created_updated_and_deleted_with_hashed_masked_passwords(engine, settings, platform):
    result = run(
        engine,
        settings,
        "users",
        (
            "username;firstname;lastname;email;password;course1;role1;course2\n"
            "ann;Ann;Lee;ann@x.org;s3cret!;C1;editingteacher;C2\n"
            "bob;Bob;Ray;;;;;\n"
        ),
    )
    assert result.counters.failed == 0 and result.tryback is None
    assert "s3cret!" not in result.report_text and "password ********" in result.report_text
    [(stored_hash,)] = rows(engine, select(users.c.password_hash).where(users.c.username == "ann"))
    assert stored_hash.startswith("$argon2id$") and PasswordHasher().verify(stored_hash, "s3cret!")
    assert members(engine, "C1") == [("ann", "D", True)] and members(engine, "C2") == [("ann", "A", True)]
    again = run(
        engine, settings, "users", "username;firstname;lastname;password;deleted\nann;Ann;Smith;s3cret!;\nbob;;;;1\n"
    )
    assert (again.counters.updated, again.counters.removed) == (1, 1)
    assert rows(
        engine, select(users.c.username, users.c.lastname, users.c.password_hash).order_by(users.c.username)
    ) == [("_anonimo", "", None), ("ann", "Smith", stored_hash)]  # same password: the hash is kept


def test_a_failed_line_goes_to_the_tryback_file_and_the_fixed_file_runs_clean(engine, settings, platform):
    header = "username;firstname;lastname;course1\n"
    result = run(engine, settings, "users", header + "ok;O;K;C1\nbad;B;D;NOPE\n# note\nworse user;W;U;C1\n")
    assert result.counters.failed == 2 and result.counters.added == 2
    assert result.tryback == (header + "bad;B;D;NOPE\nworse user;W;U;C1\n").encode()
    assert result.tryback_path.name == "users_tryback_20260310-1200.csv"
    assert result.tryback_path.parent == settings.data_dir
    assert 'line 3: error: no course with shortname "NOPE"' in result.report_text
    assert 'line 5: error: username "worse user"' in result.report_text
    assert rows(engine, select(users.c.username).where(users.c.username == "bad")) == []  # a line is whole or nothing
    fixed = result.tryback_path.read_text().replace("NOPE", "C2").replace("worse user", "worse")
    clean = run(engine, settings, "users", fixed, name=result.tryback_path.name)
    assert clean.counters.failed == 0 and clean.tryback_path is None and clean.counters.added == 4


def test_the_report_and_the_archive_take_the_contract_names_and_simulation_writes_only_the_report(
    engine, settings, platform
):
    text = "username;firstname;lastname\nsim;S;M\n"
    simulated = run(engine, settings, "users", text, name="userimport.csv", simulate=True)
    assert simulated.report_text.splitlines()[1] == 'SIMULATION : line 2: user "sim" created'
    assert all(line.startswith("SIMULATION : ") for line in simulated.report_text.splitlines())
    assert rows(engine, select(users.c.username).where(users.c.username == "sim")) == []
    assert (settings.data_dir / "userimport.csv").exists() and simulated.archive_path is None
    store = settings.data_dir / "syncfiles"
    assert [p.name for p in (store / "reports").iterdir()] == ["20260310-1200_report_userimport.csv"]
    assert list((store / "archives").iterdir()) == []
    real = run(engine, settings, "users", text, name="userimport.csv")
    assert real.archive_path == store / "archives" / "20260310-1200_userimport.csv"
    assert not (settings.data_dir / "userimport.csv").exists()
    assert real.report_path == store / "reports" / "20260310-1200_report_userimport.2.csv"


def test_reports_archives_and_trybacks_can_be_switched_off(engine, settings, platform):
    result = run(
        engine,
        settings,
        "users",
        "username;firstname;lastname\nx y;a;b\n",
        storereport=False,
        filearchive=False,
        filefailed=False,
    )
    assert result.counters.failed == 1 and "error" in result.report_text
    assert (result.report_path, result.archive_path, result.tryback_path) == (None, None, None)
    assert (settings.data_dir / "users.csv").exists()
    assert list((settings.data_dir / "syncfiles" / "reports").iterdir()) == []


def test_users_may_be_identified_by_idnumber_and_renamed(engine, settings, platform):
    platform.user("old", idnumber="E1", firstname="O", lastname="L")
    result = run(
        engine,
        settings,
        "users",
        "idnumber;username;firstname;lastname\nE1;new;N;L\n",
        users_primaryidentity="idnumber",
    )
    assert result.counters.updated == 1
    assert rows(engine, select(users.c.username).where(users.c.idnumber == "E1")) == [("new",)]


def test_iso_8859_1_files_and_the_encoded_separator_are_read(engine, settings, platform):
    text = "username,firstname,lastname\nnunez,José&#44 Mª,Núñez\n"
    result = run(engine, settings, "users", text, file_encoding="iso-8859-1", encoding="iso-8859-1")
    assert result.counters.failed == 0
    assert rows(engine, select(users.c.firstname).where(users.c.username == "nunez")) == [("José, Mª",)]


def test_courses_keep_a_given_id_and_are_updated_and_deleted(engine, settings, platform):
    result = run(
        engine,
        settings,
        "courses",
        (
            "shortname;fullname;id;idnumber;tracks_progress;startdate;visible\n"
            "NEW;New course;500;N5;0;2026-04-01 08:30;0\n"
            "C1;Renamed;;;;;\n"
            "C2;Clash;64;;;;\n"
        ),
        courses_forceupdate=True,
    )
    assert (result.counters.added, result.counters.updated, result.counters.failed) == (1, 1, 1)
    assert rows(
        engine,
        select(groups.c.id, groups.c.fullname, groups.c.tracks_progress, groups.c.startdate, groups.c.visible).where(
            groups.c.shortname == "NEW"
        ),
    ) == [(500, "New course", False, datetime(2026, 4, 1, 8, 30), False)]
    assert members(engine, "NEW") == []  # only _anonimo, as every group
    deleted = run(engine, settings, "deletecourses", "# deletions\nNEW\nC1\nghost\n")
    assert (deleted.counters.removed, deleted.counters.failed) == (2, 1)
    assert deleted.tryback == b"ghost\n"
    assert [r.shortname for r in rows(engine, select(groups.c.shortname))] == ["C2"]


def test_courses_may_be_identified_by_idnumber_or_id(engine, settings, platform):
    by_idnumber = run(engine, settings, "deletecourses", "IDC2\n", courses_filedeleteidentifier="idnumber")
    by_id = run(engine, settings, "deletecourses", "64\n", courses_filedeleteidentifier="id")
    assert by_idnumber.counters.removed == by_id.counters.removed == 1


def test_lessons_are_added_updated_and_deleted(engine, settings, platform):
    result = run(
        engine,
        settings,
        "lessons",
        (
            "crsvname;lsnvname;name;lnk_type;position;cmd\n"
            "C1;U1;Intro;L;1;\nC1;U2;Task;A;2;add\nC1;U1;Intro 2;;;\nC1;U3;;;;\nC9;U1;x;L;;\n"
        ),
    )
    assert (result.counters.added, result.counters.updated, result.counters.failed) == (2, 1, 2)
    assert "lnk_type is required to create a lesson" in result.report_text
    deleted = run(engine, settings, "lessons", "crsvname;lsnvname;cmd\nC1;U2;del\nC1;U2;del\n")
    assert (deleted.counters.removed, deleted.counters.failed) == (1, 1)
    assert rows(engine, select(units.c.code, units.c.name, units.c.type, units.c.position)) == [
        ("U1", "Intro 2", "L", 1)
    ]


def test_enrolments_add_shift_and_delete_with_moodle_role_names(engine, settings, platform):
    for login in ("ann", "bob", "cid"):
        platform.user(login)
    result = run(
        engine,
        settings,
        "enrolments",
        (
            "cmd;cid;uid;rolename;starttime;administrador;responsable\n"
            "add;C1;ann;student;2026-01-05;1;0\n"
            ";C1;bob;editingteacher;;;1\n"
            "add;C1;cid;C;;;\n"
            "shift;C1;ann;teacher;;;\n"
            "add;C1;ann;unknownrole;;;\n"
            "add;C1;nobody;student;;;\n"
            "del;C1;cid;;;;\n"
            "shift;C2;ann;guest;;;\n"
            "add;C1;_anonimo;student;;;\n"
        ),
    )
    assert (result.counters.added, result.counters.updated, result.counters.removed) == (4, 1, 1)
    assert result.counters.failed == 3  # shift of a non-member enrols (tool_sync)
    assert members(engine, "C2") == [("ann", "I", True)]
    assert members(engine, "C1") == [("ann", "T", True), ("bob", "D", True)]
    [(since, admin, resp)] = rows(
        engine,
        select(memberships.c.fecha_alta, memberships.c.administrador_grupo, memberships.c.responsable_grupo)
        .join(users)
        .where(users.c.username == "ann", memberships.c.group_id == 64),
    )
    assert (since, admin, resp) == (date(2026, 1, 5), True, False)


def test_estado_is_false_for_suspended_users_and_passed_endtimes_and_follows_suspension(engine, settings, platform):
    platform.user("ann")
    platform.user("bob")
    run(
        engine,
        settings,
        "enrolments",
        "cid;uid;rolename;endtime\nC1;ann;student;2026-03-01\nC1;bob;student;2027-01-01 10:00\nC2;bob;student;\n",
    )
    assert members(engine, "C1") == [("ann", "A", False), ("bob", "A", True)]
    run(engine, settings, "users", "username;firstname;lastname;suspended\nbob;B;B;1\n")
    assert members(engine, "C1") == [("ann", "A", False), ("bob", "A", False)]
    assert members(engine, "C2") == [("bob", "A", False)]
    run(engine, settings, "users", "username;firstname;lastname;suspended\nbob;B;B;0\n")
    assert members(engine, "C1") == [("ann", "A", False), ("bob", "A", True)]


def test_cohorts_enrol_their_members_in_bound_courses_and_unenrol_only_what_they_made(engine, settings, platform):
    for login in ("ann", "bob"):
        platform.user(login)
    platform.member("bob", 65, perfil="D")  # a manual enrolment that the cohort must leave alone
    made = run(
        engine,
        settings,
        "cohorts",
        "cmd;cidnumber;cname;cdescription;userid\n"
        "add;K1;Group K;desc;ann\nadd;K1;;;bob\nadd;K2;Other;;\ndel;K9;;;ann\n",
        **BY_USERNAME,
    )
    assert made.counters.failed == 1
    bound = run(
        engine, settings, "cohortscourses", "cohort;course;role\nK1;C1;\nK1;C2;teacher\nK7;C1;\n", **BY_USERNAME
    )
    assert bound.counters.failed == 1
    assert members(engine, "C1") == [("ann", "A", True), ("bob", "A", True)]
    assert members(engine, "C2") == [("ann", "T", True), ("bob", "D", True)]
    left = run(engine, settings, "cohorts", "cmd;cidnumber;userid\ndel;K1;bob\n", **BY_USERNAME)
    assert left.counters.failed == 0
    assert members(engine, "C1") == [("ann", "A", True)] and members(engine, "C2") == [
        ("ann", "T", True),
        ("bob", "D", True),
    ]
    run(engine, settings, "users", "username;firstname;lastname;cohortid\ncid;C;D;K1\n")
    assert members(engine, "C1") == [("ann", "A", True), ("cid", "A", True)]
    freed = run(engine, settings, "cohorts", "cmd;cidnumber\nfree;K1\n")
    assert freed.counters.failed == 0 and members(engine, "C1") == []
    assert rows(engine, select(cohort_members)) == []
    unbound = run(engine, settings, "cohortscourses", "cmd;cohort;course\ndel;K1;C2\ndel;K1;C2\n", **BY_USERNAME)
    assert (unbound.counters.removed, unbound.counters.failed) == (1, 1)
    assert [r.perfil for r in rows(engine, select(cohort_courses))] == ["A"]
    assert sorted(r.idnumber for r in rows(engine, select(cohorts.c.idnumber))) == ["K1", "K2"]


def test_a_file_without_its_required_columns_is_refused_whole(engine, settings, platform):
    result = run(engine, settings, "enrolments", "cid;uid\nC1;ann\n")
    assert "rolename" in result.refused and result.counters.processed == 0
    assert (settings.data_dir / "enrolments.csv").exists() and result.archive_path is None


def test_lines_of_one_batch_see_the_lines_before_them(engine, settings, platform, monkeypatch):
    monkeypatch.setattr("aula_ws.csvkit.batches.BATCH_SIZE", 2)
    result = run(
        engine,
        settings,
        "users",
        "username;firstname;lastname;course1;deleted\nann;A;A;C1;\nann;A;B;;\nann;;;;1\nann;A;C;C2;\n",
    )
    assert result.counters.failed == 0
    assert members(engine, "C1") == [] and members(engine, "C2") == [("ann", "A", True)]


def test_sync_settings_defaults_follow_the_contract():
    assert SyncSettings().file_names["enrolments"] == "enrols.csv"
    assert SyncSettings().lock_stale_minutes == 180


def test_groups_inside_courses_are_stored_and_listed_per_membership(engine, settings, platform):
    ann, bob = platform.user("ann"), platform.user("bob")
    result = run(
        engine,
        settings,
        "enrolments",
        "cid;uid;rolename;gcmd;g1;g2\nC1;ann;student;gaddcreate;Team B;Team A\nC1;bob;student;gaddcreate;Team A\n"
        "C2;ann;student;gadd;Team A\n",
    )
    assert result.counters.failed == 0 and 'group "Team A" of "C2" not known, cannot be created' in result.report_text
    with engine.connect() as connection:
        listed = store.groups_of_memberships(connection, [(64, ann), (64, bob), (65, ann)])
        assert listed == {(64, ann): ["Team A", "Team B"], (64, bob): ["Team A"]}
        assert store.groups_of_memberships(connection, [(64, bob)]) == {(64, bob): ["Team A"]}
        assert store.groups_of_memberships(connection) == listed
    run(engine, settings, "deletecourses", "C1\n")
    assert rows(engine, select(course_groups)) == [] and rows(engine, select(course_group_members)) == []


def test_a_sync_runs_with_fewer_collections_and_puts_the_threshold_back(engine, settings, platform, monkeypatch):
    import gc

    from aula_ws.csvkit.batches import LOADING_GC_THRESHOLD
    from aula_ws.services.sync_batches import apply_snapshot

    seen = []

    def spying(*args, **kwargs):
        seen.append(gc.get_threshold())
        return apply_snapshot(*args, **kwargs)

    monkeypatch.setattr("aula_ws.services.sync.apply_snapshot", spying)
    before = gc.get_threshold()
    assert run(engine, settings, "users", "username;firstname;lastname\nann;Ann;Lee\n").counters.failed == 0
    assert seen == [LOADING_GC_THRESHOLD] and gc.get_threshold() == before
