"""The platform of the file-side hostile tests: a data directory, a database on each engine
(SQLite inside the data directory, or the suite's PostgreSQL), and the real CLI."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, select

from aula_ws.store.database import create_database_engine
from aula_ws.store.tables import activity_log, course_statuses, lesson_sessions, memberships, users
from tests.builders import PlatformBuilder
from tests.databases import fresh_database
from tests.e2e.server_process import ROOT, aula_env

LESSONS_HEADER = "user_loginid;crsvname;lsnvname;lnk_type;lesson_status\n"
USERS_HEADER = "username;firstname;lastname\n"


@dataclass
class Platform:
    data: Path
    url: str
    engine: Engine
    env: dict[str, str]

    def cli(self, *args: str, umask: int | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return aula_ws(dict(self.env, **extra_env), *args, umask=umask)

    def count(self, table: Table, *where: ColumnElement[bool]) -> int:
        with self.engine.connect() as connection:
            counted = connection.scalar(select(func.count()).select_from(table).where(*where))
            assert counted is not None
            return int(counted)

    def counts(self) -> dict[str, int]:
        """Rows of every table an import or a sync writes: 'nothing was written' compares these."""
        return {t.name: self.count(t) for t in (users, memberships, lesson_sessions, course_statuses, activity_log)}

    def files(self) -> set[str]:
        """Every file under the data directory but the SQLite database's own."""
        return {
            str(path.relative_to(self.data))
            for path in self.data.rglob("*")
            if path.is_file() and not path.name.startswith("aula.sqlite3")
        }


def aula_ws(env: dict[str, str], *args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "aula_ws", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=set_umask,
    )


def build_platform(request: pytest.FixtureRequest, data: Path, name: str) -> Iterator[Platform]:
    url = fresh_database(request, data, name)
    engine = create_database_engine(url)
    builder = PlatformBuilder(engine)
    group = builder.group("C1", units=["L1"], group_id=64)
    builder.member("ann", group)
    builder.user("admin", site_admin=True)
    try:
        yield Platform(data, url, engine, aula_env(data, url, AULA_SYNC_SETTLE_SECONDS="0"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    yield from build_platform(request, tmp_path / "data", "files")
