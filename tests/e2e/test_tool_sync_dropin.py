"""tool_sync's own files, unchanged, with a tool_sync administrator's settings copied under the same
names (reference/tool-sync-files.md): through the CLI and the admin SOAP endpoint, on SQLite and
PostgreSQL, asserting the database and the report lines."""

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
import zeep
from PIL import Image
from sqlalchemy import select

from aula_ws.store.database import create_database_engine
from aula_ws.store.tables import (
    cohort_courses,
    cohort_members,
    cohorts,
    course_group_members,
    course_groups,
    groups,
    memberships,
    user_pictures,
    user_profile_fields,
    users,
)
from tests.builders import PlatformBuilder
from tests.e2e.server_process import aula_env
from tests.e2e.test_import_and_admin import aula_ws, header
from tests.e2e.test_sync_admin import admin_client, uploader

# A tool_sync administrator's settings (tool_sync's tests assume these), in the TOML file's [sync]
# table under tool_sync's own names: users by idnumber, enrolments' users by idnumber and courses
# by shortname, cohorts' users and cohorts by idnumber, courses and roles by shortname.
TOOL_SYNC_TOML = """
[sync]
encoding = "UTF-8"
csvseparator = ";"
users_primaryidentity = "idnumber"
enrols_useridentifier = "idnumber"
enrols_courseidentifier = "shortname"
cohorts_useridentifier = "idnumber"
cohorts_cohortidentifier = "idnumber"
cohorts_courseidentifier = "shortname"
cohorts_roleidentifier = "shortname"
cohorts_autocreate = true
userpictures_fileprefix = "userpictures_"
userpictures_userfield = 1
"""


@pytest.fixture
def tool_sync_site(tmp_path, database_url):
    engine = create_database_engine(database_url)
    builder = PlatformBuilder(engine)
    builder.group("ART101", group_id=64, idnumber="K-ART")
    builder.group("MAT202", group_id=65, idnumber="K-MAT")
    builder.user("admin", site_admin=True)
    (tmp_path / "aula-ws.toml").write_text(TOOL_SYNC_TOML)
    yield engine, aula_env(tmp_path, database_url)
    engine.dispose()


def rows(engine, query):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def sync(env, kind, path, *options):
    result = aula_ws(env, "sync", kind, str(path), *options)
    report = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("report: "))
    return result, Path(report).read_text(encoding="utf-8")


def members(engine, shortname):
    query = (
        select(users.c.username, memberships.c.perfil)
        .join(memberships, memberships.c.user_id == users.c.id)
        .join(groups, groups.c.id == memberships.c.group_id)
        .where(groups.c.shortname == shortname, users.c.username != "_anonimo")
        .order_by(users.c.username)
    )
    return rows(engine, query)


def places(engine):
    """(course, group inside it, username) for every membership of a group inside a course."""
    query = (
        select(groups.c.shortname, course_groups.c.name, users.c.username)
        .join(course_groups, course_groups.c.group_id == groups.c.id)
        .join(course_group_members, course_group_members.c.course_group_id == course_groups.c.id)
        .join(users, users.c.id == course_group_members.c.user_id)
        .order_by(groups.c.shortname, course_groups.c.name, users.c.username)
    )
    return rows(engine, query)


USER_CREATE = """\
# user_create_sample: comment lines first, as tool_sync's sample
// another comment
username;firstname;lastname;email;country;lang;idnumber;password;auth;course1;role1;group1;profile_field_dni;cohort
UGR1;Ana;Ruiz;ana@example.org;ES;es;E-1;s3cret;manual;ART101;student;Team A;111;Promo 2026
ugr2;Luis;Gil;luis@example.org;FR;fr;E-2;*NOPASS*;cas;ART101;editingteacher;;222;Promo 2026
ugr3;Zoe;Paz;ana@example.org;ES;es;E-3;;;;;;;
[a bracketed comment
ugr4;Max;Sol;max@example.org;ES;es;E-4;;;MAT202;;;;
ugr5;Eva;"Smith, Jr";eva@example.org;ES;es;E-5;;;;;;;;extra
"""


def test_tool_syncs_users_files_create_update_suspend_rename_and_delete(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    feed = tmp_path / "user_create_sample.csv"
    feed.write_text(USER_CREATE)
    ran, report = sync(env, "users", feed)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    # ugr3 takes ugr1's e-mail (a collision, as tool_sync); ugr5 has more fields than the header
    assert 'line 6: error: email "ana@example.org" belongs to another user' in report
    assert "line 9: error: the line has 15 fields but the header 14" in report
    assert 'line 3: warning: Moodle column "country" accepted, not kept by aula-ws' in report
    tryback = next(line.split(": ", 1)[1] for line in ran.stdout.splitlines() if line.startswith("tryback: "))
    assert Path(tryback).read_text().splitlines()[1:] == [USER_CREATE.splitlines()[5], USER_CREATE.splitlines()[8]]
    accounts = rows(
        engine, select(users.c.username, users.c.idnumber, users.c.auth).where(users.c.idnumber != "").order_by("id")
    )
    assert accounts == [("ugr1", "E-1", "manual"), ("ugr2", "E-2", "cas"), ("ugr4", "E-4", "manual")]
    nopass = rows(engine, select(users.c.password_hash).where(users.c.username == "ugr2"))
    assert nopass == [("*NOPASS*",)]
    assert members(engine, "ART101") == [("ugr1", "A"), ("ugr2", "D")] and members(engine, "MAT202") == [("ugr4", "A")]
    assert places(engine) == [("ART101", "Team A", "ugr1")]
    assert rows(engine, select(user_profile_fields.c.name, user_profile_fields.c.value).order_by("value")) == [
        ("dni", "111"),
        ("dni", "222"),
    ]
    assert rows(engine, select(cohorts.c.name, cohorts.c.idnumber)) == [("Promo 2026", None)]
    assert len(rows(engine, select(cohort_members))) == 2

    # user_update: found by idnumber (users_primaryidentity), renamed; e-mails protected (default on)
    update = tmp_path / "user_update.csv"
    update.write_text("username;idnumber;firstname;lastname;email;country;lang\nugr1b;E-1;Ana M;Ruiz;new@x.org;ES;es\n")
    ran, report = sync(env, "users", update)
    assert ran.returncode == 0 and 'user "ugr1b" updated (was "ugr1")' in report
    assert rows(engine, select(users.c.firstname, users.c.email).where(users.c.idnumber == "E-1")) == [
        ("Ana M", "ana@example.org")
    ]
    # user_suspend / user_delete: no idnumber column, so by username
    (tmp_path / "user_suspend.csv").write_text("username;firstname;lastname;suspended\nugr2;Luis;Gil;1\n")
    assert sync(env, "users", tmp_path / "user_suspend.csv")[0].returncode == 0
    assert rows(engine, select(users.c.suspended).where(users.c.username == "ugr2")) == [(True,)]
    (tmp_path / "user_delete.csv").write_text("username;firstname;lastname;deleted\nugr4;Max;Sol;1\nghost;G;G;1\n")
    ran, report = sync(env, "users", tmp_path / "user_delete.csv")
    assert ran.returncode == 0 and 'user "ugr4" deleted' in report
    assert 'no user with username "ghost" to delete' in report  # reported, not a failure
    assert members(engine, "MAT202") == []


def test_a_users_file_just_dropped_is_found_by_its_name_and_latin1_is_read_by_encoding(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    drop = tmp_path / "sync"
    drop.mkdir()
    (drop / "userimport.csv").write_bytes("username;firstname;lastname\nnunez;José;Núñez\n".encode("iso-8859-1"))
    past = time.time() - 120
    os.utime(drop / "userimport.csv", (past, past))
    ran, report = sync(env, "users", "userimport.csv", "--encoding", "ISO-8859-1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert rows(engine, select(users.c.firstname, users.c.lastname).where(users.c.username == "nunez")) == [
        ("José", "Núñez")
    ]
    assert aula_ws(env, "sync", "users", "userimport.csv", "--encoding", "utf-16").returncode == 2


ENROL_SAMPLE = """\
cmd;cid;uid;rolename;enrol;gcmd;g1;g2;g3
add;ART101;E-1;student;manual;gaddcreate;Team A;Team B
add;ART101;E-2;student;;gadd;Team A;Nope
add;MAT202;E-1;editingteacher;manual
shift;MAT202;E-2;teacher;;gaddcreate;Lab
add;ART101;E-2;student;;greplace;Team B
del;MAT202;E-3;;;
add;ART101;E-1;student;manual;gdel;Team B;Ghost
add;ART101;E-9;student;;;
add;ART101;E-1;rector;;;
"""


def test_tool_syncs_enrolments_sample_with_groups(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    for login, idnumber in (("ann", "E-1"), ("bob", "E-2"), ("cid", "E-3")):
        PlatformBuilder(engine).user(login, idnumber=idnumber)
    feed = tmp_path / "enrol_sample.csv"
    feed.write_text(ENROL_SAMPLE)
    ran, report = sync(env, "enrolments", feed)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert members(engine, "ART101") == [("ann", "A"), ("bob", "A")]
    assert members(engine, "MAT202") == [("ann", "D"), ("bob", "T")]  # shift enrols a non-member
    assert places(engine) == [("ART101", "Team A", "ann"), ("ART101", "Team B", "bob"), ("MAT202", "Lab", "bob")]
    for line in (
        'line 2: "ann" added to group "Team A" of "ART101" (created)',
        'line 3: group "Nope" of "ART101" not known, cannot be created',
        'line 6: "bob" removed from group "Team A" of "ART101"',
        'line 7: "cid" in "MAT202": not enrolled, nothing to unenrol',
        'line 8: "ann" removed from group "Team B" of "ART101"',
        'line 8: "ann" not removed from group "Ghost" of "ART101" (not a member)',
        'line 9: error: no user with idnumber "E-9"',
        'line 10: error: role "rector" is neither a perfil of the platform nor a known Moodle role',
    ):
        assert line in report, report
    unenrol = tmp_path / "unenrol.csv"
    unenrol.write_text("cmd;cid;uid;rolename\ndel;ART101;E-2;\n")
    assert sync(env, "enrolments", unenrol)[0].returncode == 0
    assert places(engine) == [("ART101", "Team A", "ann"), ("MAT202", "Lab", "bob")]  # unenrolled: out of groups


def test_tool_syncs_cohort_samples_by_idnumber_and_by_name_and_bindings(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    for login, idnumber in (("ann", "E-1"), ("bob", "E-2"), ("cid", "E-3")):
        PlatformBuilder(engine).user(login, idnumber=idnumber)
    create = tmp_path / "cohort_create_sample.csv"
    create.write_text("cmd;cname;userid;cdescription;cidnumber\nadd;Promo A;E-1;First;PA\nadd;Promo A;E-2;;PA\n")
    assert sync(env, "cohorts", create)[0].returncode == 0
    by_name_env = dict(env, AULA_SYNC_COHORTS_COHORTIDENTIFIER="name")
    by_name = tmp_path / "cohort_create_by_name.csv"
    by_name.write_text("cmd;cid;cname;userid;cdescription;cidnumber\nadd;;Promo B;E-3;By name;\nadd;;Promo B;E-1;;\n")
    assert sync(by_name_env, "cohorts", by_name)[0].returncode == 0
    assert rows(engine, select(cohorts.c.name, cohorts.c.idnumber, cohorts.c.description).order_by("name")) == [
        ("Promo A", "PA", "First"),
        ("Promo B", None, "By name"),
    ]
    bind = tmp_path / "cohort_bind_courses.csv"
    bind.write_text("# cohort_bind_courses\ncourse;cohort;role;makegroup\nART101;PA;student;1\nMAT202;PA;teacher;\n")
    ran, report = sync(env, "cohortscourses", bind)
    assert ran.returncode == 0, report
    assert members(engine, "ART101") == [("ann", "A"), ("bob", "A")]
    assert members(engine, "MAT202") == [("ann", "T"), ("bob", "T")]
    assert places(engine) == [("ART101", "Promo A", "ann"), ("ART101", "Promo A", "bob")]
    # cohort_delete_members, then cohort_free, then cohort_delete_sample (cid holds names, no userid)
    (tmp_path / "cohort_delete_members.csv").write_text("cmd;userid;cidnumber\ndel;E-2;PA\n")
    assert sync(env, "cohorts", tmp_path / "cohort_delete_members.csv")[0].returncode == 0
    assert members(engine, "ART101") == [("ann", "A")] and places(engine) == [("ART101", "Promo A", "ann")]
    (tmp_path / "cohort_free.csv").write_text("cmd;cidnumber\nfree;PA\n")
    assert sync(env, "cohorts", tmp_path / "cohort_free.csv")[0].returncode == 0
    assert members(engine, "ART101") == [] and len(rows(engine, select(cohort_courses))) == 2
    (tmp_path / "cohort_delete_sample.csv").write_text("cmd;cid;userid\ndel;Promo B;\ndel;Nobody;\n")
    ran, report = sync(by_name_env, "cohorts", tmp_path / "cohort_delete_sample.csv")
    assert ran.returncode == 1 and 'cohort "Promo B" deleted' in report
    assert 'error: no cohort with name "Nobody"' in report
    assert rows(engine, select(cohorts.c.name)) == [("Promo A",)]
    (tmp_path / "cohort_delete_only_by_idnumber.csv").write_text("cmd;cidnumber\ndel;PA\n")
    assert sync(env, "cohorts", tmp_path / "cohort_delete_only_by_idnumber.csv")[0].returncode == 0
    assert rows(engine, select(cohorts.c.name)) == [] and rows(engine, select(cohort_courses)) == []


def png(color):
    out = io.BytesIO()
    Image.new("RGB", (30, 30), color).save(out, format="PNG")
    return out.getvalue()


def test_every_pictures_zip_with_the_prefix_runs_in_name_order_with_sub_folders(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    for login, idnumber in (("ann", "E-1"), ("bob", "E-2")):
        PlatformBuilder(engine).user(login, idnumber=idnumber)
    store = tmp_path / "syncfiles"
    store.mkdir()
    for name, entries in (
        ("userpictures_1.zip", {"promo/2026/E-1.png": png("red"), "__MACOSX/promo/._E-1.png": b"x"}),
        ("userpictures_2.zip", {"E-2.jpg": png("blue"), "E-9.png": png("green")}),
        ("other.zip", {"E-1.png": png("white")}),
    ):
        with zipfile.ZipFile(store / name, "w") as archive:
            for entry, data in entries.items():
                archive.writestr(entry, data)
    ran = aula_ws(dict(env, AULA_SYNC_AVATARS_SCHEDULE="* * * * *"), "sync", "run")
    assert "--- avatars userpictures_1.zip" in ran.stdout and "--- avatars userpictures_2.zip" in ran.stdout
    assert ran.stdout.index("userpictures_1.zip") < ran.stdout.index("userpictures_2.zip")
    assert "other.zip" not in ran.stdout and ran.stdout.splitlines()[-1] == "files run: 2"
    assert ran.returncode == 1  # E-9 is nobody's idnumber
    [second] = (store / "reports").glob("*_report_userpictures_2.zip")
    assert 'E-9.png: error: no user idnumber "E-9"' in second.read_text()
    pictured = rows(engine, select(users.c.username).join(user_pictures).order_by(users.c.username))
    assert pictured == [("ann",), ("bob",)]


def test_the_statistics_wizards_template_is_printed_and_imports_as_it_is(tool_sync_site, tmp_path):
    engine, env = tool_sync_site
    PlatformBuilder(engine).user("demo")
    PlatformBuilder(engine).group("course_1", group_id=70)
    printed = aula_ws(env, "import", "template", "courses")
    assert printed.returncode == 0 and printed.stdout == (
        "user_loginid*\tcrsvname*\tcourse_status*\tcourse_status_date\tcourse_enrollement_date\n"
        "demo\tcourse_1\tI\t2014/01/01\t2014/01/01\n"
    )
    lessons = aula_ws(env, "import", "template", "lessons")
    assert lessons.stdout.startswith("user_loginid*\tcrsvname*\tlsnvname*\tlnk_type*\tlesson_status*\t")
    assert aula_ws(env, "import", "template", "grades").returncode == 2
    (tmp_path / "courses.txt").write_text(printed.stdout)
    imported = aula_ws(env, "import", "courses", str(tmp_path / "courses.txt"), "--enrol")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "records processed: 1" in imported.stdout and "statistics added: 1" in imported.stdout
    assert "warnings: 0" in imported.stdout


def test_tool_sync_files_through_soap(tool_sync_site):
    engine, env = tool_sync_site
    with admin_client(env) as (client, secret):
        _through_soap(engine, client, secret)


def _through_soap(engine, client, secret):
    call = uploader(client, secret)
    users_file = "username;firstname;lastname;idnumber;course1;group1\nnuñez;José;Núñez;E-7;ART101;Equipo 1\n"
    created = call("sync_users", users_file.replace("nuñez", "nunez").encode("iso-8859-1"), encoding="ISO-8859-1")
    assert (created.added, created.failed) == (3, 0), created.report
    assert "Equipo 1" in created.report
    enrolled = call("sync_enrolments", b"cmd;cid;uid;rolename;gcmd;g1\nshift;MAT202;E-7;teacher;gaddcreate;Lab\n")
    assert (enrolled.added, enrolled.failed) == (2, 0)
    assert places(engine) == [("ART101", "Equipo 1", "nunez"), ("MAT202", "Lab", "nunez")]
    cohorts_file = b"cmd;cname;userid;cidnumber\nadd;Promo S;E-7;PS\n"
    assert call("sync_cohorts", cohorts_file).added == 2
    too_many = call("sync_cohorts", b"cmd;cidnumber\ndel;PS;extra\n")
    assert too_many.failed == 1 and too_many.tryback == b"cmd;cidnumber\ndel;PS;extra\n"
    template = client.service.import_template(kind="lessons", _soapheaders=header(secret))
    assert template.splitlines()[0].split("\t")[:2] == ["user_loginid*", "crsvname*"]
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.import_template(kind="grades", _soapheaders=header(secret))
    assert caught.value.code.endswith("Client.InvalidRequest")
    with pytest.raises(zeep.exceptions.Fault):
        call("sync_users", b"username;firstname;lastname\n", encoding="utf-16")
