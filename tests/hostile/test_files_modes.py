"""Issue 9 item 9: secrets at rest. Under umask 022, through the CLI, the data directory and every
folder the service makes are 0700 and every file it writes 0600: the SQLite database (MNET key,
token hashes) and its -wal/-shm files, journals, rejects, reports, trybacks, archives, captures."""

import io
import os
import stat
from pathlib import Path

from aula_ws.services.statistics_import import ImportOptions, import_statistics
from aula_ws.services.sync import sync_upload
from tests.e2e.server_process import aula_env
from tests.hostile.files_platform import LESSONS_HEADER, USERS_HEADER, aula_ws


def modes(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): oct(stat.S_IMODE(path.lstat().st_mode)) for path in [root, *root.rglob("*")]}


def test_every_folder_is_0700_and_every_file_0600_whatever_the_umask(tmp_path):
    data = tmp_path / "fresh" / "data"  # the service creates it, and its parent
    env = aula_env(data, f"sqlite:///{data / 'aula.sqlite3'}", AULA_SYNC_SETTLE_SECONDS="0")

    def cli(*args: str, codes: tuple[int, ...] = (0, 1)) -> None:
        result = aula_ws(env, *args, umask=0o022)
        assert result.returncode in codes, (args, result.stderr)

    cli("db", "upgrade")
    users_file = tmp_path / "userimport.csv"
    users_file.write_text(f"{USERS_HEADER}ann;A;N\nadmin;A;D\nbad name;B;N\n")
    users_file.chmod(0o644)
    cli("sync", "users", str(users_file))  # report, tryback (beside the input), archive
    cli("user", "set-admin", "admin")
    cli("token", "create", "--user", "admin", "--service", "admin")
    lessons = tmp_path / "lessons.csv"
    lessons.write_text(f"{LESSONS_HEADER}nobody;C1;L1;L;C\n")
    cli("import", "lessons", str(lessons))  # journal and rejects
    drop = data / "sync"
    (drop / "enrols.csv").write_text("cid;uid;rolename\nC9;ann;student\n")
    (drop / "enrols.csv").chmod(0o644)  # written by a feeder: its mode is the feeder's
    cli("sync", "capture")
    cli("sync", "enrolments", "enrols.csv")  # from the store: report, tryback beside it, archive
    cli("sync", "users", "--simulate", str(lessons), codes=(2,))  # refused: its report only

    found = modes(data)
    folders = {name: mode for name, mode in found.items() if (data / name).is_dir()}
    files = {name: mode for name, mode in found.items() if not (data / name).is_dir()}
    assert set(folders.values()) == {"0o700"}, folders
    assert set(files.values()) == {"0o600"}, files
    assert oct(stat.S_IMODE(os.stat(data.parent).st_mode)) == "0o700"
    # what was written is all there: the test saw every kind of file
    names = " ".join(files)
    for expected in (
        "aula.sqlite3",
        "imports/",
        ".journal.txt",
        ".rejects.csv",
        "syncfiles/reports/",
        "syncfiles/archives/",
        "enrols_tryback_",
    ):
        assert expected in names, (expected, names)
    tryback = next(tmp_path.glob("userimport_tryback_*.csv"))
    assert oct(stat.S_IMODE(tryback.stat().st_mode)) == "0o600"


def test_an_existing_database_others_could_read_is_made_private(tmp_path):
    data = tmp_path / "data"
    env = aula_env(data, f"sqlite:///{data / 'aula.sqlite3'}")
    assert aula_ws(env, "db", "upgrade", umask=0o022).returncode == 0
    (data / "aula.sqlite3").chmod(0o644)

    assert aula_ws(env, "token", "list", umask=0o022).returncode == 0

    assert oct(stat.S_IMODE((data / "aula.sqlite3").stat().st_mode)) == "0o600"


def test_the_service_functions_write_private_files_without_the_cli_s_umask(engine, settings):
    # a WSGI server (gunicorn) starts us under its own umask: the modes are explicit
    previous = os.umask(0o022)
    try:
        result = sync_upload(engine, settings, "users", f"{USERS_HEADER}ann;A;N\nbad name;B;N\n".encode(), None)
        imported = import_statistics(
            engine,
            settings.timezone,
            "lessons",
            io.BytesIO(f"{LESSONS_HEADER}nobody;C1;L1;L;C\n".encode()),
            "lessons.csv",
            ImportOptions(),
            settings.data_dir / "imports",
        )
    finally:
        os.umask(previous)
    written = [
        result.report_path,
        result.archive_path,
        result.tryback_path,
        imported.journal_path,
        imported.rejects_path,
    ]
    assert all(path is not None for path in written)
    assert {oct(stat.S_IMODE(path.stat().st_mode)) for path in written if path is not None} == {"0o600"}
    store = settings.data_dir / "syncfiles"
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in (store, store / "reports", settings.data_dir / "imports")} == {
        "0o700"
    }
