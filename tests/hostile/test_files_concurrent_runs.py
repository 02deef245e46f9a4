"""Issue 9 item 4: concurrent runs never share a file. Threads run the service functions at once,
with one clock, so every name they derive collides unless each run claims its own."""

import io
import threading
from datetime import datetime

from sqlalchemy import func, select

from aula_ws.errors import SyncBusy
from aula_ws.services.statistics_import import ImportOptions, ImportResult, import_statistics
from aula_ws.services.sync import sync_upload
from aula_ws.store.tables import users
from tests.builders import PlatformBuilder
from tests.hostile.files_platform import LESSONS_HEADER, USERS_HEADER

NOW = datetime(2026, 3, 10, 12, 0)
THREADS = 8


def at_once(work):
    """Runs work(i) for every thread together; returns each one's result or exception."""
    start = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_simulated_uploads_of_one_name_in_one_minute_each_get_their_own_report(engine, settings):
    results = at_once(
        lambda i: sync_upload(
            engine,
            settings,
            "users",
            f"{USERS_HEADER}user{i};F;L\nbad name {i};F;L\n".encode(),
            "users.csv",
            simulate=True,
            now=NOW,
        )
    )

    for i, result in enumerate(results):
        assert not isinstance(result, Exception), result
        assert f'"user{i}"' in result.report_text and "user" + str((i + 1) % THREADS) + '"' not in result.report_text
        assert result.tryback.decode().endswith(f"bad name {i};F;L\n")
    reports = sorted((settings.data_dir / "syncfiles" / "reports").iterdir())
    assert len(reports) == THREADS and len({r.read_text() for r in reports}) == THREADS
    assert {r.name for r in reports} == {"20260310-1200_report_users.csv"} | {
        f"20260310-1200_report_users.{n}.csv" for n in range(2, THREADS + 1)
    }
    assert list((settings.data_dir / "syncfiles" / ".work").iterdir()) == []


def test_real_uploads_of_one_name_never_run_one_another_s_content(engine, settings):
    results = at_once(
        lambda i: sync_upload(
            engine,
            settings,
            "users",
            f"{USERS_HEADER}user{i};F;L\n".encode(),
            "users.csv",
            now=NOW,
        )
    )

    ran = [(i, r) for i, r in enumerate(results) if not isinstance(r, SyncBusy)]
    assert ran, "at least one upload runs"
    for i, result in ran:
        assert not isinstance(result, Exception), result
        assert f'"user{i}"' in result.report_text and result.counters.added == 1
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(users).where(users.c.username.like("user%")))
    assert stored == len(ran)
    store = settings.data_dir / "syncfiles"
    archived = sorted(p.read_text() for p in (store / "archives").iterdir())
    assert archived == sorted(f"{USERS_HEADER}user{i};F;L\n" for i, _ in ran)
    # a busy upload leaves nothing behind: neither in the store nor half-staged
    assert [p.name for p in store.iterdir() if p.is_file()] == []
    assert list((store / ".work").iterdir()) == []


def test_imports_of_one_name_in_one_second_each_get_their_own_journal_and_rejects(engine, settings):
    builder = PlatformBuilder(engine)
    group = builder.group("C1", units=["L1"], group_id=64)
    builder.member("ann", group)
    report_dir = settings.data_dir / "imports"

    def one_import(i: int) -> ImportResult:
        content = f"{LESSONS_HEADER}ann;C1;L1;L;C\nnobody{i};C1;L1;L;C\n".encode()
        return import_statistics(
            engine,
            settings.timezone,
            "lessons",
            io.BytesIO(content),
            "lessons.csv",
            ImportOptions(),
            report_dir,
            now=lambda: NOW,
        )

    results = at_once(one_import)

    for i, result in enumerate(results):
        assert not isinstance(result, Exception), result
        assert result.counters.added == 1 and result.counters.rejected == 1
        assert result.rejects_path.read_text() == f"{LESSONS_HEADER}nobody{i};C1;L1;L;C\n"
        assert result.journal.count("line 3: error") == 1 and result.journal.endswith("warnings: 0\n")
    assert len({r.journal_path for r in results}) == THREADS
    assert len({r.rejects_path for r in results}) == THREADS
    assert len(list(report_dir.iterdir())) == 2 * THREADS
