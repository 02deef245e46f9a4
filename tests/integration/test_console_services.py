"""What the console's screens read and the files it touches, on SQLite and PostgreSQL."""

import json
import socket
from datetime import datetime

import pytest

from aula_ws.errors import InvalidRequest, NotFound
from aula_ws.services import console_files as files
from aula_ws.services import console_imports as imports
from aula_ws.services import console_records as records
from aula_ws.services.peers import KeyPolicy
from aula_ws.store.sync_locks import this_runner
from tests.builders import PlatformBuilder

NOW = datetime(2026, 12, 3, 9, 0)


def test_users_come_in_pages_of_fifty_and_search_takes_text_literally(engine):
    builder = PlatformBuilder(engine)
    present = records.page_of(engine, "users", "", 0).total  # the migrations' own `_anonimo`
    for number in range(120):
        builder.user(f"user{number:03}", firstname="Ann" if number % 2 else "Bo")
    builder.user("odd_one%")
    first = records.page_of(engine, "users", "", 0)
    assert first.total == present + 121 and len(first.rows) == 50
    assert len(records.page_of(engine, "users", "", 2).rows) == present + 21
    assert records.page_of(engine, "users", "user11", 0).total == 10
    assert records.page_of(engine, "users", "_one%", 0).total == 1  # not wildcards
    assert records.page_of(engine, "users", "%", 0).total == 1


def test_a_user_record_has_its_memberships_and_never_its_password_hash(engine, settings):
    builder = PlatformBuilder(engine)
    group = builder.group("C1", units=["U1"])
    builder.user("ann", password_hash="$argon2id$secret")
    builder.member("ann", group)
    found = records.record(engine, settings, "users", builder.user_ids["ann"])
    assert [row[1] for row in found.memberships] == ["C1"]
    assert "password_hash" not in found.fields and found.fields["has_password"] is True
    with pytest.raises(NotFound):
        records.record(engine, settings, "users", 999_999)


def test_the_synthesis_counts_and_finds_the_locks(engine, settings):
    policy = KeyPolicy("http://127.0.0.1")
    before = records.synthesis(engine, settings, policy, NOW).counts["users"]
    PlatformBuilder(engine).user("ann")
    drop = settings.data_dir / "sync"
    drop.mkdir()
    (drop / "alock.txt").write_text("")
    found = records.synthesis(engine, settings, policy, NOW)
    assert found.counts["users"] == before + 1
    assert [lock.name for lock in found.locks] == ["alock.txt"]
    assert found.key is not None and found.key.generation == 1


@pytest.mark.parametrize("name", ["../aula.sqlite3", "reports/../x", "", ".work", "/etc/passwd"])
def test_no_file_outside_an_area_can_be_read_or_deleted(settings, name):
    with pytest.raises(NotFound):
        files.file_path(settings, "inputs", name)
    with pytest.raises(NotFound):
        files.delete_file(settings, "reports", name)


def test_an_upload_takes_a_free_name_and_refuses_the_store_own_names(settings):
    first = files.store_input(settings, "userimport.csv", b"a")
    second = files.store_input(settings, "userimport.csv", b"b")
    assert (first.name, second.name) == ("userimport.csv", "userimport.2.csv")
    assert sorted(f.name for f in files.list_area(settings, "inputs")) == ["userimport.2.csv", "userimport.csv"]
    for bad in ("lock.txt", "reports", ".hidden", "_omitted.csv"):
        with pytest.raises(InvalidRequest):
            files.store_input(settings, bad, b"x")
    assert files.kind_of(settings, "userimport.csv") == "users"
    assert files.kind_of(settings, "whatever.csv") is None


def test_the_last_report_lines_that_name_a_login(settings):
    reports = settings.data_dir / "syncfiles" / "reports"
    reports.mkdir(parents=True)
    (reports / "20261203-0900_report_users.csv").write_text('line 2: user "ann" created\nline 3: user "anna" created\n')
    assert files.lines_mentioning(settings, "ann") == [("20261203-0900_report_users.csv", 'line 2: user "ann" created')]


def test_a_wizard_refuses_a_bad_choice_before_keeping_anything(settings):
    with pytest.raises(InvalidRequest):
        imports.stage(settings, "nonsense", "a.csv", b"x\n", True, "utf-8")
    with pytest.raises(InvalidRequest):
        imports.stage(settings, "lessons", "a.csv", b"", True, "utf-8")
    with pytest.raises(InvalidRequest):
        imports.stage(settings, "lessons", "a.csv", b"x\n", True, "ebcdic")
    assert not (settings.data_dir / "console" / "imports").exists() or not any(
        (settings.data_dir / "console" / "imports").iterdir()
    )


def test_an_import_cut_by_a_server_stop_says_so_one_running_in_another_worker_does_not(settings):
    job = imports.stage(settings, "lessons", "a.csv", b"user_loginid\n", True, "utf-8")
    path = settings.data_dir / "console" / "imports" / job.id / "job.json"
    gone = f"{socket.gethostname()}:999999999:1"
    path.write_text(json.dumps({**json.loads(path.read_text()), "state": "running", "runner": gone}))
    found = imports.load(settings, job.id)
    assert found.state == "failed" and "interrupted" in (found.error or "")
    path.write_text(json.dumps({**json.loads(path.read_text()), "runner": this_runner()}))
    assert imports.load(settings, job.id).state == "running"  # this process: alive, another thread's job
    with pytest.raises(NotFound):
        imports.load(settings, "../../etc")
