"""Issue 9 item 11: a full disk, for real. The data directory is a small tmpfs (we run as root:
`mount -t tmpfs`), filled up; then imports and sync runs through the CLI and the admin SOAP
endpoint. Running out of space anywhere (database, journal, rejects, report, tryback, staging,
capture) ends with one line naming what could not be written, exit 3 (or a fault), nothing
half-stored, and the same command works once there is space again.

With SQLite the database lives on the full disk too; with PostgreSQL only the files do, so the
two engines between them reach every kind of write."""

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import zeep

from tests.e2e.server_process import running_server
from tests.e2e.test_import_and_admin import header
from tests.hostile.files_platform import LESSONS_HEADER, USERS_HEADER, Platform, build_platform

LINES = 3000


@contextmanager
def small_disk(folder: Path, size: str = "24m") -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)], capture_output=True, text=True
    )
    assert mounted.returncode == 0, f"these tests mount a tmpfs (as root): {mounted.stderr}"
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fills `disk` to the last byte, then gives `leave` bytes back."""
    filler = disk / "filler"
    with open(filler, "ab", buffering=0) as handle:
        chunk = b"\0" * (1 << 20)
        try:
            while handle.write(chunk):
                pass
        except OSError as error:
            assert error.errno == errno.ENOSPC
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def full(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Platform, Path]]:
    with small_disk(tmp_path / "disk") as disk:
        for platform in build_platform(request, disk / "data", "disk"):
            yield platform, disk


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str], name: str) -> str:
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("aula-ws: could not write "), lines[0]
    assert f"nothing of {name} was" in lines[0], lines[0]
    return lines[0]


def lessons_file(folder: Path) -> Path:
    source = folder / "lessons.csv"
    good = "ann;C1;L1;L;C\n" * LINES
    bad = "".join(f"nobody{i};C1;L1;L;C\n" for i in range(LINES))
    source.write_text(LESSONS_HEADER + good + bad)
    return source


def users_file(folder: Path) -> Path:
    source = folder / "userimport.csv"
    source.write_text(USERS_HEADER + "".join(f"user{i};F;L\nbad name{i};F;L\n" for i in range(LINES)))
    return source


@pytest.mark.parametrize("leave", [0, 16 * 1024, 96 * 1024])
def test_an_import_on_a_full_disk_stops_in_one_line_and_stores_nothing(full, tmp_path, leave):
    platform, disk = full
    source = lessons_file(tmp_path)
    rows, files = platform.counts(), platform.files()
    filler = fill(disk, leave)

    failed = platform.cli("import", "lessons", str(source))

    line = assert_refused_in_one_line(failed, "lessons.csv")
    assert any(what in line for what in ("the journal", "the rejects file", "the database")), line
    assert platform.counts() == rows and platform.files() == files
    filler.unlink()
    again = platform.cli("import", "lessons", str(source))
    assert again.returncode == 1, again.stderr
    assert platform.counts()["lesson_sessions"] == rows["lesson_sessions"] + LINES


@pytest.mark.parametrize("leave", [0, 16 * 1024, 96 * 1024])
def test_a_sync_run_on_a_full_disk_stops_in_one_line_and_applies_nothing(full, tmp_path, leave):
    platform, disk = full
    source = users_file(tmp_path)
    rows, files = platform.counts(), platform.files()
    filler = fill(disk, leave)

    failed = platform.cli("sync", "users", str(source))

    line = assert_refused_in_one_line(failed, "userimport.csv")
    assert any(w in line for w in ("the report", "the tryback file", "the database", "the capture lock")), line
    assert platform.counts() == rows and platform.files() == files
    assert source.exists() and list(tmp_path.glob("*tryback*")) == []
    filler.unlink()
    again = platform.cli("sync", "users", str(source))
    assert again.returncode == 1, again.stderr
    assert platform.counts()["users"] == rows["users"] + LINES


def test_a_capture_on_a_full_disk_leaves_the_file_in_the_drop_folder(full):
    platform, disk = full
    drop = platform.data / "sync"
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "enrols.csv").write_text("cid;uid;rolename\n" + "C1;ann;student\n" * 20_000)
    filler = fill(disk, 8 * 1024)  # room for the lock file, not for the copy

    failed = platform.cli("sync", "capture")

    assert failed.returncode == 3 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    # PostgreSQL: the copy fails; SQLite: the capture's lock row in the database first
    expected = "the database" if platform.url.startswith("sqlite") else "the capture of enrols.csv"
    assert f"aula-ws: could not write {expected}" in failed.stderr, failed.stderr
    assert (drop / "enrols.csv").stat().st_size > 300_000 and not (drop / "lock.txt").exists()
    assert [p.name for p in (platform.data / "syncfiles").rglob("*") if p.is_file()] == []
    filler.unlink()
    assert "captured: enrols.csv" in platform.cli("sync", "capture").stdout


def test_an_upload_on_a_full_disk_is_a_fault_stores_nothing_and_the_service_answers_on(full):
    platform, disk = full
    created = platform.cli("token", "create", "--user", "admin", "--service", "admin")
    token = header(created.stdout.split()[-1])
    content = (USERS_HEADER + "".join(f"user{i};F;L\n" for i in range(20_000))).encode()
    with running_server(platform.env) as server:
        client = zeep.Client(f"{server.base_url}/soap/admin?wsdl")
        rows, files = platform.counts(), platform.files()
        filler = fill(disk, 16 * 1024)  # room for the lock file, not for the staged upload

        with pytest.raises(zeep.exceptions.Fault) as caught:
            client.service.sync_users(content=content, file_name="userimport.csv", _soapheaders=token)
        assert caught.value.code.endswith("Server.WriteFailed"), caught.value.code

        assert platform.counts() == rows and platform.files() == files
        assert requests.get(f"{server.base_url}/", timeout=10).status_code == 200
        filler.unlink()
        report = client.service.sync_users(content=content, file_name="userimport.csv", _soapheaders=token)
        assert report.added == 20_000
    assert server.logged("could not write the uploaded file") and "Traceback" not in server.log
