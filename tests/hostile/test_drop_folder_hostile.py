"""Issue 9 item 3: the drop folder captures regular files only. Links, FIFOs, folders and files
named like the store's own folders are reported and left in place, and never break a capture."""

import os
from pathlib import Path

import pytest
import zeep

from aula_ws.services import sync_capture
from aula_ws.store.tables import users
from aula_ws.sync.filestore import FileStore
from tests.e2e.server_process import running_server
from tests.e2e.test_import_and_admin import header
from tests.hostile.files_platform import USERS_HEADER, platform  # noqa: F401 (fixture)


def hostile_drop_folder(data: Path, outside: Path) -> Path:
    drop = data / "sync"
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "userimport.csv").symlink_to(outside)  # named like a kind's file
    os.mkfifo(drop / "pipe.csv")
    (drop / "folder.csv").mkdir()
    (drop / "archives").write_text("not a folder\n")
    (drop / "reports").write_text("not a folder either\n")
    (drop / "enrols.csv").write_text("cid;uid;rolename\nC1;admin;manager\n")
    return drop


def test_links_fifos_folders_and_store_folder_names_are_reported_and_left_in_place(platform, tmp_path):  # noqa: F811
    outside = tmp_path / "shadow"
    outside.write_text(f"{USERS_HEADER}root;SECRET;HASH\n")
    drop = hostile_drop_folder(platform.data, outside)

    captured = platform.cli("sync", "capture")

    assert captured.returncode == 0, captured.stderr
    left = sorted(line for line in captured.stdout.splitlines() if line.startswith("left in place"))
    assert left == [
        "left in place, not captured: archives: named like a folder of the file store (rename it)",
        "left in place, not captured: folder.csv: not a regular file but a folder",
        "left in place, not captured: pipe.csv: not a regular file but a FIFO",
        "left in place, not captured: reports: named like a folder of the file store (rename it)",
        "left in place, not captured: userimport.csv: not a regular file but a symbolic link",
    ]
    assert "captured: enrols.csv" in captured.stdout and captured.stdout.splitlines()[-1] == "files captured: 1"
    assert captured.stderr.count("left in place, not captured") == 5  # one log line each
    assert "Traceback" not in captured.stderr
    # everything left is still there, as it was; nothing of the outside file entered the store
    assert (drop / "userimport.csv").is_symlink() and (drop / "pipe.csv").exists()
    assert (drop / "folder.csv").is_dir() and (drop / "archives").read_text() == "not a folder\n"
    store = platform.data / "syncfiles"
    assert (store / "archives").is_dir() and (store / "reports").is_dir()
    assert sorted(p.name for p in store.iterdir() if p.is_file()) == ["enrols.csv"]
    assert not any("SECRET" in p.read_text() for p in store.rglob("*") if p.is_file())
    assert outside.read_text() == f"{USERS_HEADER}root;SECRET;HASH\n"


def test_a_file_named_archives_never_breaks_later_captures_and_runs(platform, tmp_path):  # noqa: F811
    hostile_drop_folder(platform.data, tmp_path / "missing-target")  # a dangling link too
    assert platform.cli("sync", "capture").returncode == 0
    (platform.data / "sync" / "userimport.csv").unlink()
    (platform.data / "sync" / "userimport.csv").write_text(f"{USERS_HEADER}bob;B;N\n")

    again = platform.cli("sync", "capture")
    ran = platform.cli("sync", "users", "userimport.csv")

    assert again.returncode == 0 and "captured: userimport.csv" in again.stdout, again.stderr
    assert "archives: named like a folder" in again.stdout
    assert ran.returncode == 0, ran.stderr
    assert platform.count(users, users.c.username == "bob") == 1
    assert (platform.data / "sync" / "archives").read_text() == "not a folder\n"


def test_a_name_swapped_for_a_link_after_the_listing_is_refused_on_the_open_descriptor(tmp_path):
    # the capture decided on a regular file; by the time it opens the name, it is a link
    files = FileStore(tmp_path)
    files.create()
    secret = tmp_path / "secret"
    secret.write_text("SECRET\n")
    (files.drop / "users.csv").symlink_to(secret)

    with pytest.raises(sync_capture._NotRegular, match="not a regular file"):
        sync_capture._capture(files, "users.csv")

    assert (files.drop / "users.csv").is_symlink()
    assert [p.name for p in files.root.iterdir() if p.is_file()] == []
    assert list(files.work.iterdir()) == []


def test_a_fifo_named_after_the_listing_does_not_hang_the_capture(tmp_path):
    files = FileStore(tmp_path)
    files.create()
    os.mkfifo(files.drop / "users.csv")  # no writer: a blocking open would wait for ever

    with pytest.raises(sync_capture._NotRegular, match="FIFO"):
        sync_capture._capture(files, "users.csv")

    assert list(files.work.iterdir()) == []


def test_a_planted_lock_link_is_never_written_through(platform, tmp_path):  # noqa: F811
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    drop = platform.data / "sync"
    drop.mkdir(parents=True)
    (drop / "lock.txt").symlink_to(target)
    old = 1_000_000  # a stale lock: the capture takes it over
    os.utime(drop / "lock.txt", (old, old), follow_symlinks=False)

    captured = platform.cli("sync", "capture")

    assert captured.returncode == 0, captured.stderr
    assert target.read_text() == "keep me\n"
    assert not (drop / "lock.txt").exists()


def test_the_sync_capture_operation_answers_what_was_left(platform, tmp_path):  # noqa: F811
    outside = tmp_path / "shadow"
    outside.write_text("SECRET\n")
    hostile_drop_folder(platform.data, outside)
    created = platform.cli("token", "create", "--user", "admin", "--service", "admin")
    with running_server(platform.env) as server:
        client = zeep.Client(f"{server.base_url}/soap/admin?wsdl")
        answer = client.service.sync_capture(_soapheaders=header(created.stdout.split()[-1]))
    assert answer.captured.string == ["enrols.csv"]
    assert sorted(answer.left.string) == [
        "archives: named like a folder of the file store (rename it)",
        "folder.csv: not a regular file but a folder",
        "pipe.csv: not a regular file but a FIFO",
        "reports: named like a folder of the file store (rename it)",
        "userimport.csv: not a regular file but a symbolic link",
    ]
    assert (platform.data / "sync" / "userimport.csv").is_symlink()
