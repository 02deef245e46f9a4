"""The sync tool as administrators use it: the CLI, a run killed with SIGKILL, the admin SOAP
operations through zeep over HTTP, and the in-process scheduler."""

import io
import os
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import zeep
from PIL import Image
from sqlalchemy import func, select

from aula_ws.store.database import create_database_engine, upgrade
from aula_ws.store.tables import groups, memberships, sync_runs, user_pictures, users
from tests.builders import PlatformBuilder
from tests.e2e.server_process import aula_env, kill_mid_write, running_server
from tests.e2e.test_import_and_admin import aula_ws, header


@pytest.fixture
def platform(tmp_path):
    url = f"sqlite:///{tmp_path / 'aula.sqlite3'}"
    engine = create_database_engine(url)
    upgrade(engine)
    builder = PlatformBuilder(engine)
    builder.group("C1", group_id=64)
    builder.user("admin", site_admin=True)
    yield engine, aula_env(tmp_path, url)
    engine.dispose()


def count(engine, table, *where):
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table).where(*where))


def test_the_cli_runs_a_file_prints_the_paths_and_the_counters_last_and_exits_by_outcome(platform, tmp_path):
    engine, env = platform
    users_file = tmp_path / "userimport.csv"
    users_file.write_text("username;firstname;lastname;course1\nann;A;N;C1\nbad name;B;N;C1\n")
    simulated = aula_ws(env, "sync", "users", str(users_file), "--simulate")
    assert simulated.returncode == 1 and "simulation: nothing was written" in simulated.stdout
    assert count(engine, users, users.c.username == "ann") == 0 and users_file.exists()
    result = aula_ws(env, "sync", "users", str(users_file))
    assert result.returncode == 1, result.stderr
    out = result.stdout.splitlines()
    assert out[-7:] == [
        "lines processed: 2",
        "added: 2",
        "updated: 0",
        "removed: 0",
        "unchanged: 0",
        "lines failed: 1",
        "warnings: 0",
    ]
    tryback = next(line.split(": ", 1)[1] for line in out if line.startswith("tryback: "))
    assert Path(tryback).read_text() == "username;firstname;lastname;course1\nbad name;B;N;C1\n"
    assert any(line.startswith("archived: ") and "syncfiles/archives/" in line for line in out)
    assert count(engine, memberships, memberships.c.group_id == 64) == 2
    assert aula_ws(env, "sync", "users", str(tmp_path / "missing.csv")).returncode == 2
    assert aula_ws(env, "sync", "grades", str(users_file)).returncode == 2


def test_sync_capture_and_run_from_the_command_line(platform, tmp_path):
    engine, env = platform
    drop = tmp_path / "sync"
    drop.mkdir()
    (drop / "enrols.csv").write_text("cid;uid;rolename\nC1;admin;manager\n")
    past = time.time() - 120
    os.utime(drop / "enrols.csv", (past, past))
    captured = aula_ws(env, "sync", "capture")
    assert captured.returncode == 0 and captured.stdout.splitlines()[-1] == "files captured: 1"
    env = dict(env, AULA_SYNC_ENROLMENTS_SCHEDULE="* * * * *")
    ran = aula_ws(env, "sync", "run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "--- enrolments enrols.csv" in ran.stdout and ran.stdout.splitlines()[-1] == "files run: 1"
    assert count(engine, memberships, memberships.c.perfil == "C") == 1


def test_a_sync_killed_mid_file_applies_nothing_and_the_next_run_sets_the_file_aside(platform, tmp_path):
    engine, env = platform
    big = tmp_path / "syncfiles" / "userimport.csv"
    big.parent.mkdir()
    with big.open("w") as handle:
        handle.write("username;firstname;lastname;course1\n")
        for n in range(200_000):
            handle.write(f"u{n};First{n};Last{n};C1\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "aula_ws", "sync", "users", "userimport.csv"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_mid_write(process, tmp_path / "aula.sqlite3-wal", "sync")
    assert count(engine, users) == 2 and count(engine, sync_runs, sync_runs.c.state == "running") == 1
    again = aula_ws(env, "sync", "users", str(big))
    assert again.returncode == 2 and "set aside" in again.stderr
    assert not big.exists() and (big.parent / "userimport-tryback-failed.csv").exists()
    assert count(engine, users) == 2
    rerun = aula_ws(env, "sync", "users", "userimport-tryback-failed.csv")
    assert rerun.returncode == 0, rerun.stderr
    assert count(engine, users) == 200_002


def png():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(out, format="PNG")
    return out.getvalue()


@contextmanager
def admin_client(env):
    """A running server, a zeep client of its admin endpoint and an admin token of `admin`."""
    created = aula_ws(env, "token", "create", "--user", "admin", "--service", "admin")
    assert created.returncode == 0, created.stderr
    with running_server(env) as server:
        yield zeep.Client(f"{server.base_url}/soap/admin?wsdl"), created.stdout.split()[-1]


def uploader(client, secret):
    """`call(operation, content, **more)`: a sync operation with the admin token."""
    return lambda name, content, **kw: getattr(client.service, name)(content=content, _soapheaders=header(secret), **kw)


@pytest.fixture
def admin_server(platform):
    engine, env = platform
    with admin_client(env) as (client, secret):
        yield engine, client, secret


def test_the_sync_operations_answer_the_report_and_the_tryback_through_zeep(admin_server):
    engine, client, secret = admin_server
    call = uploader(client, secret)
    courses = call("sync_courses", b"shortname;fullname;id\nC2;Two;70\n")
    assert (courses.added, courses.failed) == (1, 0) and "created with id 70" in courses.report
    call("sync_lessons", b"crsvname;lsnvname;lnk_type\nC2;U1;L\n")
    feed = b"username;firstname;lastname;idnumber\nann;A;N;ann\nx y;B;C;\n"  # tool_sync names users by idnumber
    simulated = call("sync_users", feed, simulate=True)
    assert (
        simulated.report.startswith("SIMULATION : ")
        and simulated.tryback == b"username;firstname;lastname;idnumber\nx y;B;C;\n"
    )
    assert count(engine, users, users.c.username == "ann") == 0
    real = call("sync_users", feed, file_name="feed.csv")
    assert (real.added, real.failed) == (1, 1) and real.tryback == simulated.tryback
    enrolled = call("sync_enrolments", b"cid;uid;rolename\nC2;ann;student\n")
    assert enrolled.added == 1
    cohorts = call("sync_cohorts", b"cidnumber;userid\nK1;ann\n")
    assert cohorts.added == 2
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("ann.png", png())
        archive.writestr("../evil.png", png())
    avatars = call("sync_avatars", zipped.getvalue())
    assert (avatars.added, avatars.failed) == (1, 1)
    assert count(engine, user_pictures) == 1 and count(engine, groups, groups.c.id == 70) == 1
    capture = client.service.sync_capture(_soapheaders=header(secret))
    assert capture.captured == [] or capture.captured is None
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.sync_users(content=b"username;firstname;lastname\nzed;Z;Z\n")
    assert caught.value.code.endswith("Client.Authentication")
    assert count(engine, users, users.c.username == "zed") == 0


def test_serve_with_the_scheduler_runs_due_files(platform, tmp_path):
    engine, env = platform
    store = tmp_path / "syncfiles"
    store.mkdir()
    (store / "uploadcourses.csv").write_text("shortname;fullname\nSCHED;Scheduled\n")
    env = dict(env, AULA_SYNC_COURSES_SCHEDULE="* * * * *")
    with running_server(env, "--scheduler") as server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and count(engine, groups, groups.c.shortname == "SCHED") == 0:
            time.sleep(0.2)
        assert "sync scheduler running" in server.log
    assert count(engine, groups, groups.c.shortname == "SCHED") == 1
