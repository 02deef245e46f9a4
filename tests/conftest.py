"""Shared fixtures: a database per test on SQLite and on a real PostgreSQL.

The PostgreSQL cluster is started by the suite itself from the installed
binaries (throwaway directory, free port, loopback only). Its default
collation is ICU en-US, not C, so that code-point ordering is really tested.
Without PostgreSQL binaries those tests are skipped, saying why; with
AULA_REQUIRE_POSTGRES=1 (set by .ci/run) that is a failure instead.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.store.database import create_database_engine, upgrade
from tests.databases import migrated_sqlite
from tests.postgres import PostgresCluster, find_postgres_bindir

REQUIRE_POSTGRES = os.environ.get("AULA_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    bindir = find_postgres_bindir()
    if bindir is None:
        reason = (
            "PostgreSQL binaries not found (looked in $AULA_PG_BINDIR, /usr/lib/postgresql/*/bin "
            "and PATH): install PostgreSQL 15 (apt-get install postgresql) to run these tests"
        )
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " [AULA_REQUIRE_POSTGRES=1 makes this a failure]")
        pytest.skip(reason)
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        template = cluster.create_database("aula_template")
        engine = create_database_engine(template)
        upgrade(engine)
        engine.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the schema's head, on each engine."""
    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path)
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield cluster.create_database(name, template="aula_template")
    cluster.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema), on each engine: for migrations from an older revision."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"m_{uuid.uuid4().hex[:12]}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, timezone=ZoneInfo("UTC"))
